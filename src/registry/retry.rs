//! When to try a request again: 429, 5xx and timeouts, with exponential
//! backoff, honouring `Retry-After` (capped), never past the run's deadline.

use std::time::Duration;
use tokio::time::Instant;

/// Attempts per request, the first included.
const MAX_ATTEMPTS: u32 = 4;
/// The longest `Retry-After` honoured: a registry asking for an hour gets seconds.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(10);
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// The retry state of one request.
#[derive(Debug)]
pub struct Retry {
    attempt: u32,
    deadline: Instant,
}

impl Retry {
    pub fn new(deadline: Instant) -> Self {
        Retry {
            attempt: 1,
            deadline,
        }
    }

    /// How long to wait before the next attempt, or `None` when out of
    /// attempts or when the wait would end past the deadline.
    pub fn next_delay(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        if self.attempt >= MAX_ATTEMPTS {
            return None;
        }
        let backoff = FIRST_BACKOFF * 2u32.pow(self.attempt - 1);
        let delay = retry_after.map_or(backoff, |d| d.min(RETRY_AFTER_CAP));
        if Instant::now() + delay >= self.deadline {
            return None;
        }
        self.attempt += 1;
        Some(delay)
    }

    /// Waits for the next attempt; false when there is none.
    pub async fn wait(&mut self, retry_after: Option<Duration>) -> bool {
        match self.next_delay(retry_after) {
            Some(delay) => {
                tokio::time::sleep(delay).await;
                true
            }
            None => false,
        }
    }
}

/// A `Retry-After` header in seconds (the HTTP-date form falls back to backoff).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn backoff_grows_caps_retry_after_and_respects_the_deadline() {
        let mut retry = Retry::new(Instant::now() + Duration::from_secs(60));
        assert_eq!(retry.next_delay(None), Some(Duration::from_millis(200)));
        assert_eq!(
            retry.next_delay(Some(Duration::from_secs(3600))),
            Some(RETRY_AFTER_CAP)
        );
        assert_eq!(retry.next_delay(None), Some(Duration::from_millis(800)));
        assert_eq!(retry.next_delay(None), None, "out of attempts");

        let mut retry = Retry::new(Instant::now() + Duration::from_secs(1));
        assert_eq!(
            retry.next_delay(Some(Duration::from_secs(5))),
            None,
            "past the deadline"
        );
    }
}
