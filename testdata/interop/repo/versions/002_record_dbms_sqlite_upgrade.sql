INSERT INTO applied (version, dbms) VALUES (2, 'sqlite');
