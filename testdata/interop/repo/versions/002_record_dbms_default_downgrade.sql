DELETE FROM applied WHERE version = 2;
