//! Hashes and random bytes for credentials, from the shared vocabulary (`vocabulary::secrets`); the test
//! here checks the demo configuration's credentials against them.

pub use vocabulary::secrets::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_pin_hash_matches_config() {
        let config = crate::config::Config::parse(crate::config::DEMO_TOML, "demo".as_ref()).unwrap();
        assert!(pin_matches("246813", &config.admin.maintenance_pin_hash));
        assert!(!pin_matches("246814", &config.admin.maintenance_pin_hash));
        assert_eq!(config.admin.maintenance_pin_hash, crate::config::DEMO_PIN_HASH);
        let hashes: Vec<&str> = config.admin.tokens.iter().map(|t| t.hash.as_str()).collect();
        assert_eq!(
            hashes,
            ["demo-counter-token", "demo-staff-token", "demo-technician-token"].map(token_hash),
            "the demo tokens, in role order"
        );
        assert_eq!(hashes, crate::config::DEMO_TOKEN_HASHES);
    }
}
