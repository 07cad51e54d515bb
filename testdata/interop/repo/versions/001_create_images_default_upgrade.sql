-- Version 1: the images table, and a log of which script each version ran.
CREATE TABLE images (
    id VARCHAR(36) NOT NULL,
    name VARCHAR(255),
    PRIMARY KEY (id)
);
/* A semicolon and a comment marker inside a string literal are data. */
INSERT INTO images (id, name) VALUES ('img-1', 'first; -- not a comment');
CREATE TABLE applied (version INTEGER NOT NULL, dbms VARCHAR(20) NOT NULL);
