//! Password hashes: argon2id in PHC string form. Clear passwords are never stored or logged.

use argon2::password_hash::{phc::PasswordHash, PasswordHasher, PasswordVerifier};
use argon2::Argon2;

/// Longest password accepted, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes a clear password with argon2id and a random salt.
pub fn hash(password: &str) -> Result<String, String> {
    if password.is_empty() {
        return Err("the password is empty".into());
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "the password is longer than {MAX_PASSWORD_BYTES} bytes"
        ));
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Checks a password against a stored hash; any malformed hash simply fails.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// Accepts an argon2 hash in PHC string form, as exported from another system.
pub fn validate_phc(phc: &str) -> Result<(), String> {
    let h = PasswordHash::new(phc).map_err(|e| format!("not a PHC password hash string ({e})"))?;
    let alg = h.algorithm.as_str();
    if !matches!(alg, "argon2id" | "argon2i" | "argon2d") {
        return Err(format!(
            "hash algorithm {alg} is not argon2 (argon2id, argon2i, argon2d)"
        ));
    }
    if h.salt.is_none() || h.hash.is_none() {
        return Err("the hash string has no salt or no hash".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash("secret").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("secret", &h));
        assert!(!verify("Secret", &h));
        assert!(validate_phc(&h).is_ok());
    }

    #[test]
    fn rejects_other_schemes_and_garbage() {
        assert!(validate_phc("$2b$12$abcdefghijklmnopqrstuv").is_err());
        assert!(validate_phc("plain").is_err());
        assert!(!verify("x", "garbage"));
        assert!(hash("").is_err());
    }
}
