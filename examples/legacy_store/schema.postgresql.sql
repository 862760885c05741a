-- A legacy-shaped account store (PostgreSQL): other names, contacts in their own table,
-- a message log with its own timestamp column, orders instead of invoices, and order
-- lines with a composite key. Described by datamap.yaml beside this file.
CREATE TABLE customer (
    cust_no INTEGER PRIMARY KEY,
    firm_name VARCHAR(200),
    contact_name VARCHAR(200),
    state CHAR(1) NOT NULL DEFAULT 'A',
    frozen INTEGER NOT NULL DEFAULT 0,
    frozen_since TIMESTAMP WITH TIME ZONE,
    closed_on TIMESTAMP WITH TIME ZONE,
    created TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE TABLE customer_contact (
    contact_id INTEGER PRIMARY KEY,
    cust_no INTEGER NOT NULL REFERENCES customer (cust_no),
    kind VARCHAR(4) NOT NULL,
    value VARCHAR(320),
    is_main INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE msg_log (
    log_id INTEGER PRIMARY KEY,
    cust_no INTEGER NOT NULL REFERENCES customer (cust_no),
    logged TIMESTAMP WITH TIME ZONE NOT NULL,
    sender_id VARCHAR(11),
    to_number VARCHAR(20),
    body TEXT,
    purged_on TIMESTAMP WITH TIME ZONE
);
CREATE TABLE web_login (
    login_id INTEGER PRIMARY KEY,
    cust_no INTEGER NOT NULL REFERENCES customer (cust_no),
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    ip_addr VARCHAR(45),
    agent VARCHAR(300)
);
CREATE TABLE orders (
    order_no INTEGER PRIMARY KEY,
    cust_no INTEGER NOT NULL REFERENCES customer (cust_no),
    placed_on TIMESTAMP WITH TIME ZONE NOT NULL,
    bill_to_name VARCHAR(200),
    bill_to_street VARCHAR(400),
    vat_id VARCHAR(30),
    bill_mail VARCHAR(320),
    total_cents INTEGER NOT NULL,
    keep_until DATE
);
CREATE TABLE order_line (
    order_no INTEGER NOT NULL REFERENCES orders (order_no),
    line_no INTEGER NOT NULL,
    item_text VARCHAR(200) NOT NULL,
    qty INTEGER NOT NULL,
    price_cents INTEGER NOT NULL,
    PRIMARY KEY (order_no, line_no)
);
CREATE INDEX ix_msg_log_logged ON msg_log (logged);
