// node table: in progress
