//! HAProxy in front of the replicas, configured as a production load balancer would be for
//! Portcullis: round robin, a `/readyz` health check every 200 ms (one failure takes a replica out,
//! two successes bring it back), and a retry on another replica when a connection fails or a
//! replica closes it without answering. HAProxy comes from Debian's `haproxy` package (`.ci/run`
//! installs it).

use std::path::Path;
use std::time::Duration;

use tokio::process::{Child, Command};

use super::{Replica, client, spawn_logged, until_answers};
use crate::helpers::{Server, serves_at};

pub struct Balancer {
    base: String,
    http: reqwest::Client,
    _child: Child,
}

serves_at!(Balancer, base);

impl Balancer {
    pub async fn start(port: u16, replicas: &[Replica], dir: &Path) -> Balancer {
        let mut config = format!(
            "global
    maxconn 4096

defaults
    mode http
    # X-Forwarded-For, which the replicas believe from 127.0.0.1 (PORTCULLIS_TRUSTED_PROXIES).
    option forwardfor
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    # A request whose connection failed, or that a dying replica closed unanswered, is sent
    # again, to another replica.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend portcullis
    bind 127.0.0.1:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 200ms fall 1 rise 2
"
        );
        for replica in replicas {
            let address = replica.base().trim_start_matches("http://");
            config.push_str(&format!("    server {} {address} check\n", replica.name));
        }
        let file = dir.join("haproxy.cfg");
        std::fs::write(&file, config).expect("write haproxy.cfg");
        let mut command = Command::new(haproxy());
        command.arg("-db").arg("-f").arg(&file);
        let balancer = Balancer {
            base: format!("http://127.0.0.1:{port}"),
            http: client(),
            _child: spawn_logged(command, &dir.join("haproxy.log")),
        };
        until_answers(&balancer, "/readyz", Duration::from_secs(10)).await;
        balancer
    }
}

fn haproxy() -> &'static str {
    if Path::new("/usr/sbin/haproxy").exists() {
        "/usr/sbin/haproxy"
    } else {
        "haproxy"
    }
}
