//! TLS to PostgreSQL with rustls, set by libpq's `sslmode` and `sslrootcert` URL parameters:
//!
//! - `disable`: never TLS;
//! - `prefer` (the default, as libpq's): TLS if the server offers it, its certificate unchecked;
//! - `require`: TLS or no connection, the certificate unchecked; with `sslrootcert`, checked as `verify-ca` (libpq's
//!   rule);
//! - `verify-ca`: TLS, and the certificate signed by a CA in `sslrootcert`;
//! - `verify-full`: TLS, and the certificate signed by a CA in `sslrootcert` and issued for the URL's host.
//!
//! tokio-postgres itself knows neither `verify-ca`, `verify-full` nor `sslrootcert` (it refuses such a URL), so
//! both parameters are taken out of the URL here and the driver is told only whether TLS is required.

use std::sync::Arc;

use percent_encoding::percent_decode_str;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{VerifierBuilderError, WebPkiServerVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// Why TLS to the database cannot be set up as its URL asks.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `sslmode` has a value libpq does not know either.
    #[error("sslmode={0} is not one of disable, prefer, require, verify-ca, verify-full")]
    UnknownMode(String),
    /// `verify-ca` or `verify-full` without the CA to verify against.
    #[error("sslmode={0} needs sslrootcert=PATH, a PEM file of the CA certificates to trust")]
    NoRootCert(String),
    /// The `sslrootcert` file cannot be read or holds no certificate.
    #[error("sslrootcert {path}: {reason}")]
    RootCert { path: String, reason: String },
    /// rustls refused the configuration.
    #[error("cannot set up TLS: {0}")]
    Setup(#[from] rustls::Error),
    /// rustls refused the CA certificates.
    #[error("cannot check certificates against sslrootcert: {0}")]
    Verifier(#[from] VerifierBuilderError),
}

/// The TLS parameters taken out of a connection URL, as written there.
#[derive(Debug, Default)]
pub(super) struct TlsParams {
    mode: Option<String>,
    root_cert: Option<String>,
}

/// Splits `sslmode` and `sslrootcert` off `url`'s query: the URL tokio-postgres can read, and the two parameters.
pub(super) fn take_tls_params(url: &str) -> (String, TlsParams) {
    let mut params = TlsParams::default();
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), params);
    };
    let decode = |value: &str| percent_decode_str(value).decode_utf8_lossy().into_owned();
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some(("sslmode", value)) => {
                params.mode = Some(decode(value));
                false
            }
            Some(("sslrootcert", value)) => {
                params.root_cert = Some(decode(value));
                false
            }
            _ => true,
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, params)
}

/// What a connection checks of the server's certificate, and against which CA file.
enum Check<'a> {
    Nothing,
    Chain(&'a str),
    ChainAndName(&'a str),
}

impl TlsParams {
    /// Whether the driver must use TLS, and the connector that checks the server's certificate as `sslmode` says.
    pub(super) fn connector(&self) -> Result<(SslMode, MakeRustlsConnect), TlsError> {
        let (mode, check) = match (self.mode.as_deref().unwrap_or("prefer"), self.root_cert.as_deref()) {
            ("disable", _) => (SslMode::Disable, Check::Nothing),
            ("prefer", _) => (SslMode::Prefer, Check::Nothing),
            ("require", None) => (SslMode::Require, Check::Nothing),
            // libpq's rule: `require` with a CA file checks the chain, as `verify-ca` does.
            ("require" | "verify-ca", Some(path)) => (SslMode::Require, Check::Chain(path)),
            ("verify-full", Some(path)) => (SslMode::Require, Check::ChainAndName(path)),
            (mode @ ("verify-ca" | "verify-full"), None) => return Err(TlsError::NoRootCert(mode.to_owned())),
            (other, _) => return Err(TlsError::UnknownMode(other.to_owned())),
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let algorithms = provider.signature_verification_algorithms;
        let builder =
            ClientConfig::builder_with_provider(Arc::clone(&provider)).with_safe_default_protocol_versions()?;
        let config = match check {
            Check::ChainAndName(path) => builder.with_root_certificates(load_roots(path)?),
            Check::Chain(path) => {
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(load_roots(path)?), provider).build()?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyName(webpki)))
            }
            Check::Nothing => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(algorithms))),
        };
        Ok((mode, MakeRustlsConnect::new(config.with_no_client_auth())))
    }
}

/// The CA certificates of the PEM file at `path`.
fn load_roots(path: &str) -> Result<RootCertStore, TlsError> {
    let unreadable = |reason: String| TlsError::RootCert {
        path: path.to_owned(),
        reason,
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(e.to_string()))? {
        let cert = cert.map_err(|e| unreadable(e.to_string()))?;
        roots.add(cert).map_err(|e| unreadable(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(unreadable("no certificate in it".to_owned()));
    }
    Ok(roots)
}

/// `verify-ca`: the chain is checked as `verify-full` checks it, the host name is not. rustls checks the name only
/// once the chain is verified, so a name error means a good chain.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            checked => checked,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` and `require`: any certificate is accepted (the connection is encrypted, the server not authenticated,
/// as with libpq); the handshake's signatures are still checked against it.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
