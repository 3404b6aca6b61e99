//! TLS identities. Certificates and keys live in the store (`es_tls_identity`), so a database
//! backup holds them too. `esmail init` makes a self-signed one for the quick start.

use chrono::{DateTime, Duration, Utc};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509NameBuilder, X509};

/// How long the quick-start certificate is valid.
pub const SELF_SIGNED_DAYS: i64 = 825;

/// A certificate and its private key, both PEM.
#[derive(Debug, Clone)]
pub struct Generated {
    pub cert_pem: String,
    pub key_pem: String,
    pub not_after: DateTime<Utc>,
}

/// Makes a self-signed RSA-2048 server certificate for `names` (DNS names; `localhost`,
/// 127.0.0.1 and ::1 are always added).
pub fn self_signed(common_name: &str, names: &[String]) -> Result<Generated, String> {
    let e = |what: &str, err: openssl::error::ErrorStack| format!("{what}: {err}");
    let rsa = Rsa::generate(2048).map_err(|x| e("key", x))?;
    let key = PKey::from_rsa(rsa).map_err(|x| e("key", x))?;
    let mut name = X509NameBuilder::new().map_err(|x| e("name", x))?;
    name.append_entry_by_text("CN", common_name)
        .map_err(|x| e("name", x))?;
    name.append_entry_by_text("O", "esmail")
        .map_err(|x| e("name", x))?;
    let name = name.build();
    let mut b = X509::builder().map_err(|x| e("certificate", x))?;
    b.set_version(2).map_err(|x| e("certificate", x))?;
    let mut serial = BigNum::new().map_err(|x| e("serial", x))?;
    serial
        .rand(127, MsbOption::MAYBE_ZERO, false)
        .map_err(|x| e("serial", x))?;
    let serial = serial.to_asn1_integer().map_err(|x| e("serial", x))?;
    b.set_serial_number(&serial).map_err(|x| e("serial", x))?;
    b.set_subject_name(&name).map_err(|x| e("certificate", x))?;
    b.set_issuer_name(&name).map_err(|x| e("certificate", x))?;
    b.set_pubkey(&key).map_err(|x| e("certificate", x))?;
    let not_before = Asn1Time::days_from_now(0).map_err(|x| e("validity", x))?;
    let not_after =
        Asn1Time::days_from_now(SELF_SIGNED_DAYS as u32).map_err(|x| e("validity", x))?;
    b.set_not_before(&not_before)
        .map_err(|x| e("validity", x))?;
    b.set_not_after(&not_after).map_err(|x| e("validity", x))?;
    b.append_extension(
        BasicConstraints::new()
            .critical()
            .build()
            .map_err(|x| e("ext", x))?,
    )
    .map_err(|x| e("ext", x))?;
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_encipherment()
            .build()
            .map_err(|x| e("ext", x))?,
    )
    .map_err(|x| e("ext", x))?;
    b.append_extension(
        ExtendedKeyUsage::new()
            .server_auth()
            .build()
            .map_err(|x| e("ext", x))?,
    )
    .map_err(|x| e("ext", x))?;
    let mut san = SubjectAlternativeName::new();
    let mut seen = Vec::new();
    for n in names.iter().map(String::as_str).chain(["localhost"]) {
        if !n.is_empty() && !seen.contains(&n) {
            san.dns(n);
            seen.push(n);
        }
    }
    san.ip("127.0.0.1");
    san.ip("::1");
    let san = san
        .build(&b.x509v3_context(None, None))
        .map_err(|x| e("subjectAltName", x))?;
    b.append_extension(san).map_err(|x| e("ext", x))?;
    b.sign(&key, MessageDigest::sha256())
        .map_err(|x| e("sign", x))?;
    let cert = b.build();
    Ok(Generated {
        cert_pem: String::from_utf8_lossy(&cert.to_pem().map_err(|x| e("pem", x))?).into_owned(),
        key_pem: String::from_utf8_lossy(&key.private_key_to_pem_pkcs8().map_err(|x| e("pem", x))?)
            .into_owned(),
        not_after: Utc::now() + Duration::days(SELF_SIGNED_DAYS),
    })
}

/// A native-tls server identity from PEM text.
pub fn identity(cert_pem: &str, key_pem: &str) -> Result<native_tls::Identity, String> {
    native_tls::Identity::from_pkcs8(cert_pem.as_bytes(), key_pem.as_bytes())
        .map_err(|e| format!("the stored TLS certificate or key is unusable: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_loads_into_native_tls() {
        let g = self_signed(
            "mail.example.com",
            &["mail.example.com".into(), "example.com".into()],
        )
        .unwrap();
        assert!(g.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(g.key_pem.contains("PRIVATE KEY"));
        identity(&g.cert_pem, &g.key_pem).unwrap();
    }
}

/// A TLS acceptor (TLS 1.2 or later) from a PEM certificate and key.
pub fn tls_acceptor(
    cert_pem: &str,
    key_pem: &str,
) -> Result<tokio_native_tls::TlsAcceptor, String> {
    let identity = crate::tls::identity(cert_pem, key_pem)?;
    native_tls::TlsAcceptor::builder(identity)
        .min_protocol_version(Some(native_tls::Protocol::Tlsv12))
        .build()
        .map(tokio_native_tls::TlsAcceptor::from)
        .map_err(|e| format!("cannot set TLS up with the stored certificate: {e}"))
}

/// The acceptor of a TLS identity of the store (`es_tls_identity`); `None`, with a warning
/// saying that `what` is off, when there is none or it is unusable.
pub fn stored_acceptor(
    c: &mut crate::store::Conn,
    name: &str,
    what: &str,
) -> Result<Option<tokio_native_tls::TlsAcceptor>, String> {
    match crate::store::system::tls_identity(c, name).map_err(|e| e.to_string())? {
        None => {
            log::warn!("no TLS identity {name:?} in the store: {what} is off");
            Ok(None)
        }
        Some(t) => match tls_acceptor(&t.cert_pem, &t.key_pem) {
            Ok(a) => Ok(Some(a)),
            Err(e) => {
                log::warn!("{e}: {what} is off");
                Ok(None)
            }
        },
    }
}
