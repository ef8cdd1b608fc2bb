//! Is the PowerSync service up? Its liveness probe, as notebox reaches it.

use std::time::Duration;

use url::Url;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    Up,
    Down(String),
}

/// `GET {internal_url}/probes/liveness`.
pub async fn liveness(client: &reqwest::Client, internal_url: &Url) -> Liveness {
    let url = match internal_url.join("probes/liveness") {
        Ok(url) => url,
        Err(e) => return Liveness::Down(format!("bad powersync.internal_url: {e}")),
    };
    match client.get(url.clone()).timeout(PROBE_TIMEOUT).send().await {
        Ok(response) if response.status().is_success() => Liveness::Up,
        Ok(response) => Liveness::Down(format!("{url} answered {}", response.status())),
        Err(e) if e.is_timeout() => Liveness::Down(format!(
            "{url} did not answer within {} s",
            PROBE_TIMEOUT.as_secs()
        )),
        Err(e) if e.is_connect() => Liveness::Down(format!("cannot connect to {url}")),
        Err(e) => Liveness::Down(format!("{url}: {e}")),
    }
}
