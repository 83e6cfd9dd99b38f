//! TLS to PostgreSQL against two throwaway clusters: one with `ssl = on` and a certificate for `localhost` signed by
//! a CA made here (rcgen), one without TLS. Each case opens the store with a URL (holding a password the clusters'
//! trust authentication ignores) and expects it to open, encrypted or not, or to be refused with one line, as
//! `secrets-server` prints it, that names the cause and never the password.

use std::path::Path;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use throwaway_postgres::{Cluster, Options, ServerTls};

use crate::store::{Database, Store};

/// A new CA's certificate (PEM), and a server certificate for `host` that it signed.
fn pki(ca_name: &str, host: &str) -> (String, ServerTls) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, ca_name);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![host.to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let tls = ServerTls {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    };
    (ca.pem(), tls)
}

/// What opening the store should do.
enum Expect {
    /// Open, over TLS or not.
    Opens { encrypted: bool },
    /// Refuse, with a message holding this.
    Refused(&'static str),
}

struct Case {
    name: &'static str,
    /// Whether the cluster offers TLS.
    tls: bool,
    host: &'static str,
    /// The URL's query, with `{ca}` and `{other_ca}` for the CA files.
    query: &'static str,
    expect: Expect,
}

const CASES: &[Case] = &[
    Case {
        name: "verify-full with the CA that signed the certificate",
        tls: true,
        host: "localhost",
        query: "sslmode=verify-full&sslrootcert={ca}",
        expect: Expect::Opens { encrypted: true },
    },
    Case {
        name: "verify-full with another CA",
        tls: true,
        host: "localhost",
        query: "sslmode=verify-full&sslrootcert={other_ca}",
        expect: Expect::Refused("invalid peer certificate: UnknownIssuer"),
    },
    Case {
        name: "verify-full to a host the certificate does not name",
        tls: true,
        host: "127.0.0.1",
        query: "sslmode=verify-full&sslrootcert={ca}",
        expect: Expect::Refused("not valid for name"),
    },
    Case {
        name: "verify-ca to a host the certificate does not name",
        tls: true,
        host: "127.0.0.1",
        query: "application_name=tls-test&sslmode=verify-ca&sslrootcert={ca}",
        expect: Expect::Opens { encrypted: true },
    },
    Case {
        name: "verify-ca with another CA",
        tls: true,
        host: "127.0.0.1",
        query: "sslmode=verify-ca&sslrootcert={other_ca}",
        expect: Expect::Refused("invalid peer certificate: UnknownIssuer"),
    },
    Case {
        name: "require with another CA checks it, as libpq does",
        tls: true,
        host: "127.0.0.1",
        query: "sslmode=require&sslrootcert={other_ca}",
        expect: Expect::Refused("invalid peer certificate: UnknownIssuer"),
    },
    Case {
        name: "require without a CA",
        tls: true,
        host: "127.0.0.1",
        query: "sslmode=require",
        expect: Expect::Opens { encrypted: true },
    },
    Case {
        name: "no sslmode prefers TLS",
        tls: true,
        host: "127.0.0.1",
        query: "",
        expect: Expect::Opens { encrypted: true },
    },
    Case {
        name: "disable",
        tls: true,
        host: "127.0.0.1",
        query: "sslmode=disable",
        expect: Expect::Opens { encrypted: false },
    },
    Case {
        name: "require against a server without TLS",
        tls: false,
        host: "127.0.0.1",
        query: "sslmode=require",
        expect: Expect::Refused("server does not support TLS"),
    },
    Case {
        name: "prefer against a server without TLS",
        tls: false,
        host: "127.0.0.1",
        query: "sslmode=prefer",
        expect: Expect::Opens { encrypted: false },
    },
    Case {
        name: "verify-full without sslrootcert",
        tls: true,
        host: "localhost",
        query: "sslmode=verify-full",
        expect: Expect::Refused("sslmode=verify-full needs sslrootcert=PATH"),
    },
    Case {
        name: "an sslrootcert that is not there",
        tls: true,
        host: "localhost",
        query: "sslmode=verify-full&sslrootcert=/nonexistent/root.crt",
        expect: Expect::Refused("sslrootcert /nonexistent/root.crt"),
    },
    Case {
        name: "an unknown sslmode",
        tls: true,
        host: "localhost",
        query: "sslmode=verify",
        expect: Expect::Refused("sslmode=verify is not one of"),
    },
];

/// Whether every connection the store holds to database `db` is encrypted, as the server sees them.
fn encrypted(cluster: &Cluster, db: &str) -> bool {
    let sql = format!(
        "SELECT bool_and(ssl) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
         WHERE datname = '{db}' AND backend_type = 'client backend'"
    );
    match cluster.psql("postgres", &sql).unwrap().as_str() {
        "t" => true,
        "f" => false,
        other => panic!("no connection of the store's to {db} ({other:?})"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_and_sslrootcert_decide_tls() {
    let (ca, server) = pki("the server's CA", "localhost");
    let (other_ca, _) = pki("another CA", "localhost");
    let clusters = [
        Cluster::start_with_tls(Options::default(), &server),
        Cluster::start(Options::default()),
    ];
    let [Ok(with_tls), Ok(without_tls)] = clusters else {
        let [with_tls, without_tls] = clusters;
        match with_tls.and(without_tls) {
            Err(throwaway_postgres::Error::NotInstalled) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: {}", throwaway_postgres::Error::NotInstalled);
                return;
            }
            Err(e) => panic!("{e}"),
            Ok(_) => unreachable!("one of the clusters failed to start"),
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let ca_file = write(dir.path(), "ca.crt", &ca);
    let other_ca_file = write(dir.path(), "other-ca.crt", &other_ca);
    for case in CASES {
        let cluster = if case.tls { &with_tls } else { &without_tls };
        let db = cluster.create_database("tls").unwrap();
        let db = db.rsplit('/').next().unwrap();
        let query = case
            .query
            .replace("{ca}", &ca_file)
            .replace("{other_ca}", &other_ca_file);
        let url = format!(
            "postgres://postgres:hunter2@{}:{}/{db}?{query}",
            case.host,
            cluster.port()
        );
        let opened = Store::open(&Database::parse(&url), Duration::from_secs(5)).await;
        match (&case.expect, opened) {
            (Expect::Opens { encrypted: want }, Ok(store)) => {
                assert_eq!(encrypted(cluster, db), *want, "{}: encrypted", case.name);
                drop(store);
            }
            (Expect::Refused(cause), Err(e)) => {
                // As `secrets-server` prints it: the whole chain on one line.
                let line = format!("{:#}", anyhow::Error::from(e));
                assert!(line.contains(cause), "{}: {line:?} does not say {cause:?}", case.name);
                assert!(
                    line.contains(&format!("/{db}")),
                    "{}: {line:?} names no database",
                    case.name
                );
                assert!(!line.contains('\n'), "{}: {line:?} is not one line", case.name);
                assert!(!line.contains("hunter2"), "{}: {line:?} shows the password", case.name);
            }
            (Expect::Opens { .. }, Err(e)) => panic!("{}: refused: {:#}", case.name, anyhow::Error::from(e)),
            (Expect::Refused(cause), Ok(_)) => panic!("{}: opened, expected a refusal saying {cause:?}", case.name),
        }
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}
