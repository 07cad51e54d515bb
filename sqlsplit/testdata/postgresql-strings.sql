SELECT E'it\'s; escaped\\', e'\\';
SELECT '\'; SELECT 'standard strings end at the quote';
SELECT U&'\0441;', B'101', X'1F';
SELECT 1 /* outer /* nested; */ still a comment; */ + 2;
SELECT data #>> '{a,b}', 5 # 3 FROM t;
# this is an operator in PostgreSQL, so this line starts a statement;
SELECT "weird "" identifier;" FROM t -- a comment; with a semicolon
;
