//! Gateways between esmail and other mail systems. `smtp`: the SMTP/MIME gateway
//! (`esmail smtpgw`), inbound for now.

pub mod smtp;
