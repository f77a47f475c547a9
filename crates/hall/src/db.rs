//! The county's and the hall's PostgreSQL, reached the same way: an address (a URL or libpq's key=value
//! words) with deadlines, plain or TLS checked against the county's CA, and what PostgreSQL said in words.

use postgres::{Client, NoTls};
use std::time::Duration;

/// Why a PostgreSQL database could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("--db is not a PostgreSQL address ({0}); write e.g. postgres://fleet@db.county.example/kiosk_fleet")]
    BadUrl(String),
    #[error(
        "cannot reach PostgreSQL at {target} ({why}); check that it runs and that the address and password are right"
    )]
    Connect { target: String, why: String },
}

/// What PostgreSQL said, with its detail: the error's own text is only "db error".
pub fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = format!("{} ({})", db.message(), db.code().code());
            if let Some(d) = db.detail() {
                m.push_str(&format!("; {d}"));
            }
            m
        }
        None => {
            let mut m = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                m.push_str(&format!(": {s}"));
                source = s.source();
            }
            m
        }
    }
}

/// How the county's PostgreSQL is reached: its address (a URL or libpq's key=value words) and, for TLS, the
/// CA that issued the server's certificate. With a CA the connection is TLS and the certificate must be
/// that CA's for the host named; without one it is plain (a Unix socket, or the county's private network),
/// and an address that asks for `sslmode=require` is refused rather than connected without checking.
#[derive(Debug, Clone)]
pub struct DbAddress {
    pub url: String,
    pub ca_file: Option<std::path::PathBuf>,
}

impl DbAddress {
    pub fn new(url: &str, ca_file: Option<&std::path::Path>) -> DbAddress {
        DbAddress { url: url.to_owned(), ca_file: ca_file.map(std::path::Path::to_path_buf) }
    }

    /// The address parsed, with `timeout` to connect unless it says otherwise.
    pub fn config(&self, timeout: Duration) -> Result<postgres::Config, DbError> {
        let mut config: postgres::Config =
            self.url.parse().map_err(|e: postgres::Error| DbError::BadUrl(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(timeout);
        }
        config.keepalives(true).keepalives_idle(Duration::from_secs(30));
        Ok(config)
    }

    /// Connects with `config` (from [`DbAddress::config`], perhaps with more options set).
    pub fn connect(&self, mut config: postgres::Config) -> Result<Client, DbError> {
        let target = describe(&config);
        let failed = |e: postgres::Error| DbError::Connect { target: target.clone(), why: pg_message(&e) };
        match &self.ca_file {
            None if config.get_ssl_mode() == postgres::config::SslMode::Require => Err(DbError::Connect {
                target: target.clone(),
                why: "the address asks for sslmode=require but no CA file is given to check the server's certificate with"
                    .into(),
            }),
            None => config.ssl_mode(postgres::config::SslMode::Disable).connect(NoTls).map_err(failed),
            Some(ca) => {
                let tls = tls_to(ca).map_err(|e| DbError::Connect { target: target.clone(), why: e.to_string() })?;
                config.ssl_mode(postgres::config::SslMode::Require).connect(tls).map_err(failed)
            }
        }
    }

    /// The address parsed for the asynchronous client (the hall counter's), with `timeout` to connect unless
    /// it says otherwise. The caller puts its own deadline around everything it does with it.
    pub fn async_config(&self, timeout: Duration) -> Result<tokio_postgres::Config, DbError> {
        let mut config: tokio_postgres::Config =
            self.url.parse().map_err(|e: tokio_postgres::Error| DbError::BadUrl(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(timeout);
        }
        config.keepalives(true).keepalives_idle(Duration::from_secs(30));
        Ok(config)
    }

    /// Connects the asynchronous client with `config`, plain or TLS as [`DbAddress::connect`] does, and
    /// spawns its connection on the current runtime: abort the returned task to drop the connection.
    pub async fn connect_async(
        &self,
        mut config: tokio_postgres::Config,
    ) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), DbError> {
        let target = describe_async(&config);
        let failed = |e: tokio_postgres::Error| DbError::Connect { target: target.clone(), why: pg_message(&e) };
        match &self.ca_file {
            None if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require => Err(DbError::Connect {
                target: target.clone(),
                why: "the address asks for sslmode=require but no CA file is given to check the server's certificate with"
                    .into(),
            }),
            None => {
                let (client, connection) =
                    config.ssl_mode(tokio_postgres::config::SslMode::Disable).connect(postgres::NoTls).await.map_err(failed)?;
                Ok((client, tokio::spawn(async move { drop(connection.await) })))
            }
            Some(ca) => {
                let tls = tls_to(ca).map_err(|e| DbError::Connect { target: target.clone(), why: e.to_string() })?;
                let (client, connection) =
                    config.ssl_mode(tokio_postgres::config::SslMode::Require).connect(tls).await.map_err(failed)?;
                Ok((client, tokio::spawn(async move { drop(connection.await) })))
            }
        }
    }

    /// Connects with 10 s to connect unless the address says otherwise.
    pub fn open(&self) -> Result<Client, DbError> {
        self.connect(self.config(Duration::from_secs(10))?)
    }
}

/// Why the CA file for the database's TLS cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("the CA file {} cannot be read ({detail})", path.display())]
    Unreadable { path: std::path::PathBuf, detail: String },
    #[error("the CA file {} holds no certificate", path.display())]
    Empty { path: std::path::PathBuf },
    #[error(transparent)]
    Unusable(#[from] net::tls::TlsError),
    #[error("TLS cannot be set up ({0})")]
    Rustls(#[from] rustls::Error),
}

/// TLS that trusts the CA certificates in `ca` (PEM) and nothing else.
fn tls_to(ca: &std::path::Path) -> Result<tokio_postgres_rustls::MakeRustlsConnect, CaError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let certs = CertificateDer::pem_file_iter(ca)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| CaError::Unreadable { path: ca.to_owned(), detail: e.to_string() })?;
    if certs.is_empty() {
        return Err(CaError::Empty { path: ca.to_owned() });
    }
    let roots = match net::Trust::roots(certs)? {
        net::Trust::Roots(roots) => roots,
        // `roots` makes nothing else; an empty store trusts nobody.
        _ => std::sync::Arc::new(rustls::RootCertStore::empty()),
    };
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Where a configuration points, without its password.
pub fn describe(config: &postgres::Config) -> String {
    describe_parts(config.get_hosts(), config.get_user(), config.get_ports(), config.get_dbname())
}

/// Where the asynchronous client's configuration points, without its password.
pub fn describe_async(config: &tokio_postgres::Config) -> String {
    describe_parts(config.get_hosts(), config.get_user(), config.get_ports(), config.get_dbname())
}

fn describe_parts(
    hosts: &[tokio_postgres::config::Host],
    user: Option<&str>,
    ports: &[u16],
    dbname: Option<&str>,
) -> String {
    let hosts: Vec<String> = hosts
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(s) => s.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .collect();
    format!(
        "{}@{}:{}/{}",
        user.unwrap_or("?"),
        hosts.join(","),
        ports.first().copied().unwrap_or(5432),
        dbname.unwrap_or("?")
    )
}
