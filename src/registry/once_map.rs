//! A map whose values are computed once per key, however many tasks ask at
//! the same time: one ping per registry, one token per repository.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use tokio::sync::{Mutex, OnceCell};

pub struct OnceMap<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K, V> Default for OnceMap<K, V> {
    fn default() -> Self {
        OnceMap {
            cells: Mutex::default(),
        }
    }
}

impl<K: Eq + Hash, V: Clone> OnceMap<K, V> {
    /// The value for `key`, computing it with `init` if no task has yet;
    /// concurrent callers wait for the first computation.
    pub async fn get_or_init<F, Fut>(&self, key: K, init: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = self.cells.lock().await.entry(key).or_default().clone();
        cell.get_or_init(init).await.clone()
    }

    /// Forgets a value, so the next caller computes it again.
    pub async fn forget(&self, key: &K) {
        self.cells.lock().await.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn computes_once_per_key_even_when_asked_concurrently() {
        let map: Arc<OnceMap<&str, usize>> = Arc::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (map, calls) = (map.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                map.get_or_init("registry", || async {
                    tokio::task::yield_now().await;
                    calls.fetch_add(1, Ordering::SeqCst) + 7
                })
                .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 7);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        map.forget(&"registry").await;
        assert_eq!(map.get_or_init("registry", || async { 9 }).await, 9);
    }
}
