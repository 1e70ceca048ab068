//! Password hashing with argon2id (PHC strings), run on the blocking pool.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use crate::error::{CoreError, Result};

/// The argon2 cost. [`HashCost::default`] follows OWASP's argon2id recommendation (19 MiB, two
/// passes); tests may choose a cheaper one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        HashCost {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

impl HashCost {
    /// The cheapest cost argon2 allows: only for tests.
    pub fn insecure_for_tests() -> Self {
        HashCost {
            memory_kib: 8,
            iterations: 1,
        }
    }

    fn argon2(self) -> Result<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.iterations, 1, None)
            .map_err(|e| CoreError::Hash(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// Hashes a password into a PHC string (blocking: call through [`hash_async`] from async code).
pub fn hash(cost: HashCost, password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| CoreError::Hash(e.to_string()))?;
    let phc = cost
        .argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| CoreError::Hash(e.to_string()))?;
    Ok(phc.to_string())
}

/// Checks a password against a PHC string; the parameters come from the string itself.
pub fn verify(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// [`hash`] on the blocking pool.
pub async fn hash_async(cost: HashCost, password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash(cost, &password))
        .await
        .map_err(|e| CoreError::Task(e.to_string()))?
}

/// [`verify`] on the blocking pool.
pub async fn verify_async(phc: String, password: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || verify(&phc, &password))
        .await
        .map_err(|e| CoreError::Task(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_round_trip() {
        let phc = hash(HashCost::insecure_for_tests(), "correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(!phc.contains("correct horse"));
        assert!(verify(&phc, "correct horse"));
        assert!(!verify(&phc, "correct horsE"));
        assert!(!verify("not a hash", "correct horse"));
        let again = hash(HashCost::insecure_for_tests(), "correct horse").unwrap();
        assert_ne!(phc, again, "every hash has its own salt");
    }
}
