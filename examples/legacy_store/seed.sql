-- Example rows (the same on SQLite, PostgreSQL and MariaDB). Times are UTC.
-- Customer 1 has two email addresses and a phone; customer 2 is someone else.
INSERT INTO customer (cust_no, firm_name, contact_name, state, frozen, created) VALUES
    (1, 'Hansen Cykler ApS', 'Jens Hansen', 'A', 0, '2024-02-01 09:00:00'),
    (2, 'Other Firm Ltd', 'Olivia Other', 'A', 0, '2025-05-05 12:00:00');
INSERT INTO customer_contact (contact_id, cust_no, kind, value, is_main) VALUES
    (10, 1, 'mail', 'jens@hansen-cykler.dk', 1),
    (11, 1, 'mail', 'bogholderi@hansen-cykler.dk', 0),
    (12, 1, 'tel', '+4531000001', 1),
    (20, 2, 'mail', 'olivia@other.example', 1);
INSERT INTO msg_log (log_id, cust_no, logged, sender_id, to_number, body) VALUES
    (100, 1, '2027-01-05 08:00:00', 'Hansen', '+4540000001', 'Your bike is ready'),
    (101, 1, '2027-01-20 08:00:00', 'Hansen', '+4540000002', 'Your bike is ready'),
    (102, 1, '2027-02-01 08:00:00', 'Hansen', '+4540000003', 'Reply to jens@hansen-cykler.dk'),
    (103, 1, '2027-03-10 08:00:00', 'Hansen', '+4540000004', 'New season offer'),
    (104, 1, '2027-03-14 08:00:00', 'Hansen', '+4540000005', 'New season offer'),
    (200, 2, '2027-01-05 08:00:00', 'Other', '+4550000001', 'Hello from Other'),
    (201, 2, '2027-03-12 08:00:00', 'Other', '+4550000002', 'Hello again');
INSERT INTO web_login (login_id, cust_no, at, ip_addr, agent) VALUES
    (1000, 1, '2027-03-01 07:00:00', '192.0.2.10', 'Firefox'),
    (1001, 1, '2027-03-02 07:00:00', '192.0.2.11', 'Firefox'),
    (2000, 2, '2027-03-01 07:00:00', '198.51.100.7', 'Safari');
INSERT INTO orders (order_no, cust_no, placed_on, bill_to_name, bill_to_street, vat_id, bill_mail, total_cents) VALUES
    (5001, 1, '2024-06-01 10:00:00', 'Hansen Cykler ApS', 'Cykelvej 1, 8000 Aarhus', 'DK11111111', 'bogholderi@hansen-cykler.dk', 50000),
    (5002, 1, '2026-09-01 10:00:00', 'Hansen Cykler ApS', 'Cykelvej 1, 8000 Aarhus', 'DK11111111', 'bogholderi@hansen-cykler.dk', 75000),
    (6001, 2, '2026-01-01 10:00:00', 'Other Firm Ltd', '1 Other Street', 'GB222', 'olivia@other.example', 1000);
INSERT INTO order_line (order_no, line_no, item_text, qty, price_cents) VALUES
    (5001, 1, 'SMS credits', 1000, 40),
    (5001, 2, 'Setup', 1, 10000),
    (5002, 1, 'SMS credits', 1500, 50),
    (6001, 1, 'SMS credits', 25, 40);
