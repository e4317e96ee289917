//! TLS for PostgreSQL connections (rustls, the same TLS stack the server already uses for
//! SMTP), selected with libpq's URL parameters:
//!
//! * `sslmode=disable` (the default here, unlike libpq: Assent usually talks to a database
//!   on the same machine or a private network) or `prefer`/`require`: encrypted without
//!   checking the server's certificate (`prefer` falls back to plain text when the server
//!   offers no TLS), as in libpq;
//! * `sslmode=verify-ca`: the certificate must chain to a trusted root, whatever its name;
//! * `sslmode=verify-full`: and it must name the host of the URL.
//!
//! Trusted roots: the PEM file given with `sslrootcert=PATH`, otherwise the Mozilla roots
//! built in (`webpki-roots`). Channel binding (SCRAM-SHA-256-PLUS) is not offered; password
//! authentication uses SCRAM-SHA-256 inside the encrypted connection.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::SslMode;
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

use crate::error::StoreError;

/// What `sslmode` asks of the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    /// TLS if the server offers it, unchecked.
    Prefer,
    /// TLS, unchecked.
    Require,
    VerifyCa,
    VerifyFull,
}

impl TlsMode {
    pub fn parse(s: &str) -> Result<TlsMode, StoreError> {
        Ok(match s {
            "disable" => TlsMode::Disable,
            "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            other => {
                return Err(StoreError::InvalidLocation(format!(
                    "invalid sslmode `{other}` in the PostgreSQL URL: use disable, prefer, \
                     require, verify-ca or verify-full"
                )));
            }
        })
    }

    /// The mode tokio-postgres negotiates with (the checks are the connector's).
    pub fn ssl_mode(self) -> SslMode {
        match self {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => SslMode::Require,
        }
    }
}

/// The connector handed to tokio-postgres and the connection pool.
#[derive(Clone)]
pub struct MakeRustls {
    config: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for MakeRustls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MakeRustls")
    }
}

impl MakeRustls {
    /// Builds the client configuration for `mode`, reading `root_cert` (PEM) if given.
    pub fn new(mode: TlsMode, root_cert: Option<&Path>) -> Result<MakeRustls, StoreError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = Arc::new(roots(root_cert)?);
        let full = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| StoreError::InvalidLocation(format!("TLS roots: {e}")))?;
        let verifier: Arc<dyn ServerCertVerifier> = match mode {
            TlsMode::VerifyFull => full,
            TlsMode::VerifyCa => Arc::new(Relaxed {
                webpki: full,
                check_chain: true,
            }),
            TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => Arc::new(Relaxed {
                webpki: full,
                check_chain: false,
            }),
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Internal(format!("TLS configuration: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustls {
            config: Arc::new(config),
        })
    }
}

fn roots(root_cert: Option<&Path>) -> Result<RootCertStore, StoreError> {
    let mut store = RootCertStore::empty();
    let Some(path) = root_cert else {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok(store);
    };
    let bad = |e: &dyn std::fmt::Display| {
        StoreError::InvalidLocation(format!("sslrootcert {}: {e}", path.display()))
    };
    let mut n = 0;
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
        store.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
        n += 1;
    }
    if n == 0 {
        return Err(bad(&"no certificate in the file"));
    }
    Ok(store)
}

/// `verify-ca` (the chain is checked, the name is not) and `prefer`/`require` (nothing is
/// checked, libpq's meaning of these modes). In both, the handshake's signatures are still
/// verified against the certificate presented.
#[derive(Debug)]
struct Relaxed {
    webpki: Arc<WebPkiServerVerifier>,
    check_chain: bool,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.check_chain {
            return Ok(ServerCertVerified::assertion());
        }
        match self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, io::Error> {
        let name = ServerName::try_from(domain.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(RustlsConnect {
            connector: tokio_rustls::TlsConnector::from(self.config.clone()),
            name,
        })
    }
}

pub struct RustlsConnect {
    connector: tokio_rustls::TlsConnector,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let s = self.connector.connect(self.name, stream).await?;
            Ok(RustlsStream(Box::new(s)))
        })
    }
}

/// A TLS connection to PostgreSQL.
pub struct RustlsStream<S>(Box<tokio_rustls::client::TlsStream<S>>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_map() {
        assert_eq!(TlsMode::parse("verify-full").unwrap(), TlsMode::VerifyFull);
        assert_eq!(
            TlsMode::parse("verify-ca").unwrap().ssl_mode(),
            SslMode::Require
        );
        assert_eq!(
            TlsMode::parse("prefer").unwrap().ssl_mode(),
            SslMode::Prefer
        );
        let e = TlsMode::parse("allow").unwrap_err().to_string();
        assert!(e.contains("sslmode `allow`"), "{e}");
    }

    #[test]
    fn a_root_file_without_certificates_is_refused() {
        let p = std::env::temp_dir().join(format!("assent-noroot-{}.pem", std::process::id()));
        std::fs::write(&p, "not a certificate\n").unwrap();
        let e = MakeRustls::new(TlsMode::VerifyFull, Some(&p))
            .unwrap_err()
            .to_string();
        std::fs::remove_file(&p).unwrap();
        assert!(e.contains("no certificate"), "{e}");
        let missing = Path::new("/nonexistent/root.pem");
        let e = MakeRustls::new(TlsMode::VerifyCa, Some(missing))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/root.pem"), "{e}");
    }
}
