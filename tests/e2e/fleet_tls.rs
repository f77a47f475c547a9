//! The county database over TLS (a certificate for 127.0.0.1 from the county's CA): `kiosk-county fleet` with
//! `--db-ca` and a hall queue with `[queue] shared.ca_file` connect with TLS and check the certificate; a
//! certificate from another CA, or `sslmode=require` without a CA to check it with, is refused.

use crate::support::{Postgres, config_in, county, kiosk, run};

#[test]
fn the_fleet_and_the_hall_queue_reach_postgresql_over_verified_tls() {
    let root = tempfile::tempdir().unwrap();
    let (pg, ca) = Postgres::start_tls(root.path());
    let url = pg.tls_url();
    let ca_arg = ca.to_str().unwrap();

    let (code, out, err) = run(county().args(["fleet", "migrate", "--db", &url, "--db-ca", ca_arg]));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("Applied V1, V2"), "{out}");
    assert!(
        pg.log().lines().any(|l| l.contains("connection authorized: user=kiosk") && l.contains("SSL enabled")),
        "the server saw a TLS connection:\n{}",
        pg.log()
    );

    // A certificate the given CA did not issue: refused, nothing done.
    let other = root.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let (_other_pg, other_ca) = Postgres::start_tls(&other);
    let (code, _, err) = run(county().args(["fleet", "migrate", "--db", &url, "--db-ca", other_ca.to_str().unwrap()]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("cannot reach PostgreSQL at kiosk@127.0.0.1") && err.to_lowercase().contains("certificate"),
        "{err}"
    );
    // sslmode=require with nothing to check the certificate against: refused rather than trusted blindly.
    let (code, _, err) = run(county().args(["fleet", "migrate", "--db", &format!("{url} sslmode=require")]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no CA file"), "{err}");
    // A CA file that is not one.
    let junk = root.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let (code, _, err) = run(county().args(["fleet", "migrate", "--db", &url, "--db-ca", junk.to_str().unwrap()]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("holds no certificate"), "{err}");

    // A hall kiosk numbering over TLS.
    let dir = root.path().join("kiosk");
    std::fs::create_dir_all(&dir).unwrap();
    let config = config_in(&dir);
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[queue]\n",
        &format!(
            "[queue]\nshared = {{ db = \"{url}\", ca_file = \"{}\", hall = \"linshu-county\", offline_band = [5001, 5099] }}\n",
            ca.display()
        ),
    );
    std::fs::write(&config, &text).unwrap();
    let (code, out, err) = run(kiosk().args(["ticket", "issue", "--category", "A", "--config"]).arg(&config));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("A001 "), "the hall's first number, not the offline band: {out}{err}");
    let last: i32 = pg.client().query_one("SELECT last_number FROM hall_counters", &[]).unwrap().get(0);
    assert_eq!(last, 1);
    // The CA file must exist for the configuration to be valid.
    std::fs::write(&config, text.replace(&ca.display().to_string(), "/nonexistent/ca.pem")).unwrap();
    let (code, _, err) = run(kiosk().args(["config", "check"]).arg(&config));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("field `queue.shared.ca_file`") && err.contains("/nonexistent/ca.pem is not a file"), "{err}");
}
