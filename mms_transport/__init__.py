"""MMS over MM4 (SMTP): message builder, sender workers and the inbound receiver."""
