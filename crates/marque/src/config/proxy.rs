//! `[proxy_protocol]`: the services whose listeners sit behind a load balancer that opens
//! every connection with a PROXY protocol header, and the balancers trusted to send it.

use marque_session::{Network, ProxyProtocol};
use serde::Deserialize;

use super::Service;

/// `[proxy_protocol]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProxy {
    pub services: Option<Vec<String>>,
    pub trusted: Option<Vec<String>>,
}

/// `[proxy_protocol]`.
#[derive(Debug, Clone, Default)]
pub struct Proxy {
    /// Services whose every listener requires the header (none by default).
    pub services: Vec<Service>,
    /// The balancers' addresses: a connection from anywhere else to such a listener is closed.
    pub trusted: Vec<Network>,
}

impl Proxy {
    /// The PROXY protocol settings of `service`'s listeners, if it is behind a balancer.
    pub fn for_service(&self, service: Service) -> Option<ProxyProtocol> {
        self.services
            .contains(&service)
            .then(|| ProxyProtocol::new(self.trusted.clone()))
    }
}

/// Checks `[proxy_protocol]`; each problem as (key path, message).
pub fn check_proxy(raw: RawProxy, problems: &mut Vec<(String, String)>) -> Proxy {
    let mut services = Vec::new();
    for (i, s) in raw.services.unwrap_or_default().iter().enumerate() {
        match s.trim().parse::<Service>() {
            Ok(service) if services.contains(&service) => problems.push((
                format!("proxy_protocol.services[{i}]"),
                format!("{s:?} is listed twice"),
            )),
            Ok(service) => services.push(service),
            Err(e) => problems.push((format!("proxy_protocol.services[{i}]"), e)),
        }
    }
    let mut trusted = Vec::new();
    let raw_trusted = raw.trusted.unwrap_or_default();
    for (i, s) in raw_trusted.iter().enumerate() {
        match s.trim().parse::<Network>() {
            Ok(n) => trusted.push(n),
            Err(e) => problems.push((format!("proxy_protocol.trusted[{i}]"), e)),
        }
    }
    // A list whose every entry is wrong has been reported entry by entry already.
    if !services.is_empty() && raw_trusted.is_empty() {
        problems.push((
            "proxy_protocol.trusted".into(),
            "required when services are listed: the load balancers' addresses".into(),
        ));
    }
    Proxy { services, trusted }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(services: &[&str], trusted: &[&str]) -> (Proxy, Vec<(String, String)>) {
        let mut p = Vec::new();
        let raw = RawProxy {
            services: Some(services.iter().map(|s| s.to_string()).collect()),
            trusted: Some(trusted.iter().map(|s| s.to_string()).collect()),
        };
        (check_proxy(raw, &mut p), p)
    }

    #[test]
    fn listed_services_get_the_trusted_networks() {
        let (proxy, problems) = check(&["smtp", "imaps"], &["10.0.0.0/24", "::1/128"]);
        assert!(problems.is_empty(), "{problems:?}");
        let smtp = proxy.for_service(Service::Smtp).unwrap();
        assert!(smtp.trusts("10.0.0.7".parse().unwrap()));
        assert!(!smtp.trusts("10.0.1.7".parse().unwrap()));
        assert!(proxy.for_service(Service::Imaps).is_some());
        assert!(proxy.for_service(Service::Imap).is_none());
        assert!(Proxy::default().for_service(Service::Smtp).is_none());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let (_, problems) = check(&["smtp", "gopher", "smtp"], &["10.0.0.1/8", "x"]);
        let paths: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            paths,
            [
                "proxy_protocol.services[1]",
                "proxy_protocol.services[2]",
                "proxy_protocol.trusted[0]",
                "proxy_protocol.trusted[1]",
            ]
        );
        let (_, problems) = check(&["pop3"], &[]);
        assert_eq!(problems[0].0, "proxy_protocol.trusted");
    }
}
