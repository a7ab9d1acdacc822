//! The address of the person or program behind a request, for throttling and the audit log.
//! Connected directly, it is the TCP peer. Behind load balancers or an ingress controller listed
//! in `PORTCULLIS_TRUSTED_PROXIES`, the peer is a proxy, and the client is the right-most
//! `X-Forwarded-For` entry that is not itself a trusted proxy: every proxy appends the address it
//! saw, so entries left of that one are whatever the client chose to send, and are not believed.
//!
//! Every address is taken in its canonical form first: on a dual-stack listener (`[::]`) an IPv4
//! peer arrives as `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2), which would match no IPv4 network in the
//! trusted list and count apart from the same client over IPv4.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::state::AppState;

/// The client's address (port 0 when it came from `X-Forwarded-For`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

impl ClientAddr {
    pub fn of(parts: &Parts, trusted: &[IpNet]) -> ClientAddr {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0), |c| c.0);
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        let client = forwarded_for(peer.ip(), &parts.headers, trusted);
        ClientAddr(if client == peer.ip() {
            peer
        } else {
            SocketAddr::new(client, 0)
        })
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(ClientAddr::of(parts, &state.config.trusted_proxies))
    }
}

/// The client behind `peer`, walking `X-Forwarded-For` from the right while the hops are trusted.
fn forwarded_for(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        match entry.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            // Not an address: nothing left of it can be believed either.
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(peer: &str, xff: &[&str], trusted: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in xff {
            headers.append(
                "x-forwarded-for",
                value.parse().unwrap_or_else(|_| unreachable!()),
            );
        }
        let trusted: Vec<IpNet> = trusted.iter().filter_map(|t| t.parse().ok()).collect();
        let peer = peer.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        forwarded_for(peer, &headers, &trusted).to_string()
    }

    #[test]
    fn only_trusted_proxies_are_believed_and_only_from_the_right() {
        let lb = ["10.0.0.0/8"];
        // No trusted proxies: the header is the client's own claim, ignored.
        assert_eq!(client("203.0.113.9", &["198.51.100.1"], &[]), "203.0.113.9");
        // From a trusted proxy: the address it appended.
        assert_eq!(client("10.1.2.3", &["203.0.113.9"], &lb), "203.0.113.9");
        // A client forging an entry to the left gets nowhere.
        assert_eq!(
            client("10.1.2.3", &["1.2.3.4, 203.0.113.9"], &lb),
            "203.0.113.9"
        );
        // Two proxies (an outer load balancer, then the ingress), over two header lines.
        assert_eq!(
            client("10.1.2.3", &["203.0.113.9", "10.9.9.9"], &lb),
            "203.0.113.9"
        );
        // A peer that is not a trusted proxy is the client, whatever it sends.
        assert_eq!(client("192.0.2.1", &["203.0.113.9"], &lb), "192.0.2.1");
        // Garbage stops the walk at the last trusted hop; no header means the peer.
        assert_eq!(client("10.1.2.3", &["junk, 10.4.4.4"], &lb), "10.4.4.4");
        assert_eq!(client("10.1.2.3", &[], &lb), "10.1.2.3");
        assert_eq!(client("10.1.2.3", &["2001:db8::7"], &lb), "2001:db8::7");
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        let lb = ["10.0.0.0/8"];
        // A dual-stack listener sees an IPv4 proxy as ::ffff:10.1.2.3: still the trusted proxy.
        assert_eq!(
            client("::ffff:10.1.2.3", &["203.0.113.9"], &lb),
            "203.0.113.9"
        );
        // Mapped entries in the header are IPv4 too, trusted hops included.
        assert_eq!(
            client(
                "::ffff:10.1.2.3",
                &["::ffff:203.0.113.9, ::ffff:10.9.9.9"],
                &lb
            ),
            "203.0.113.9"
        );
        // An untrusted mapped peer is the client, as plain IPv4.
        assert_eq!(client("::ffff:192.0.2.1", &["1.2.3.4"], &lb), "192.0.2.1");
    }
}
