//! Single-flight imports: concurrent imports of one id in one process
//! share the first one's work. The catalog handle holds the [`Flights`];
//! the first caller for an id leads (its [`Landing`] ends the flight, even
//! if the import panics), the others wait for it.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// In-flight imports by id.
#[derive(Debug, Default)]
pub(crate) struct Flights {
    inflight: Mutex<HashMap<String, Arc<Flight>>>,
}

/// One import in flight.
#[derive(Debug, Default)]
pub(super) struct Flight {
    done: Mutex<bool>,
    finished: Condvar,
}

/// What a caller of an id's import does: lead it, or wait for the leader.
pub(super) enum Boarding<'a> {
    /// No import of the id was in flight: this caller does it.
    Leader(Landing<'a>),
    /// Another caller leads; wait for it ([`Flight::wait`]).
    Follower(Arc<Flight>),
}

/// Removes the flight and wakes its waiters, even if the import panicked.
pub(super) struct Landing<'a> {
    flights: &'a Flights,
    id: String,
    flight: Arc<Flight>,
}

impl Flights {
    /// Joins the flight of `id`, leading it if there is none.
    pub(super) fn board(&self, id: &str) -> Boarding<'_> {
        let mut map = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get(id) {
            Some(f) => Boarding::Follower(f.clone()),
            None => {
                let flight = Arc::new(Flight::default());
                map.insert(id.to_owned(), flight.clone());
                Boarding::Leader(Landing {
                    flights: self,
                    id: id.to_owned(),
                    flight,
                })
            }
        }
    }
}

impl Flight {
    /// Blocks until the leader has landed.
    pub(super) fn wait(&self) {
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        while !*done {
            done = self
                .finished
                .wait(done)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut map = self
            .flights
            .inflight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.remove(&self.id);
        *self
            .flight
            .done
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.flight.finished.notify_all();
    }
}
