//! Journaled tables for the working set: rows a batch loaded (or knows to be absent), overlaid with the
//! changes of the commands decided so far. Every change records the slot it replaced, so a rejected
//! command is undone exactly; the first record per key also says what a row was before the command
//! (segment upkeep compares before and after).

use std::collections::HashMap;
use std::hash::Hash;

/// What every journaled structure of the working set does at command boundaries.
pub(crate) trait Journal {
    /// Starts a command: changes from here on can be undone.
    fn begin(&mut self);
    /// Undoes every change since `begin`.
    fn undo(&mut self);
}

#[derive(Clone, Debug)]
struct Slot<V> {
    /// `None`: looked up and known to be absent (or removed, for index entries).
    value: Option<V>,
    /// Changed by the batch: written at flush.
    dirty: bool,
}

/// Rows by key. Loads `absorb` rows without journaling (committed state stays known after an undo);
/// changes (`put`, `update`, `remove`) are journaled and mark the row dirty.
#[derive(Debug)]
pub struct Table<K, V> {
    rows: HashMap<K, Slot<V>>,
    undo: Vec<(K, Option<Slot<V>>)>,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table { rows: HashMap::new(), undo: Vec::new() }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Table<K, V> {
    /// Whether the key was looked up or written (absent rows are known too).
    pub fn knows(&self, key: &K) -> bool {
        self.rows.contains_key(key)
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.rows.get(key).and_then(|s| s.value.as_ref())
    }

    /// A loaded row, or `None` for a key looked up and not found. A key already known is left alone (the
    /// batch's own version wins over what the database returned).
    pub fn absorb(&mut self, key: K, value: Option<V>) {
        self.rows.entry(key).or_insert(Slot { value, dirty: false });
    }

    fn record(&mut self, key: &K, old: Option<Slot<V>>) {
        self.undo.push((key.clone(), old));
    }

    pub fn put(&mut self, key: K, value: V) {
        let old = self.rows.insert(key.clone(), Slot { value: Some(value), dirty: true });
        self.record(&key, old);
    }

    /// Marks a key absent (index entries whose name went away).
    pub fn remove(&mut self, key: K) {
        let old = self.rows.insert(key.clone(), Slot { value: None, dirty: true });
        self.record(&key, old);
    }

    /// Changes a known row in place; `false` when there is no such row.
    pub fn update(&mut self, key: &K, change: impl FnOnce(&mut V)) -> bool {
        let Some(slot) = self.rows.get_mut(key) else { return false };
        let Some(value) = slot.value.as_mut() else { return false };
        let old = Slot { value: Some(value.clone()), dirty: slot.dirty };
        change(value);
        slot.dirty = true;
        self.undo.push((key.clone(), Some(old)));
        true
    }

    pub fn is_dirty(&self, key: &K) -> bool {
        self.rows.get(key).is_some_and(|s| s.dirty)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.rows.values().filter_map(|s| s.value.as_ref())
    }

    /// Rows to write at flush.
    pub fn dirty(&self) -> impl Iterator<Item = (&K, &V)> {
        self.rows.iter().filter(|(_, s)| s.dirty).filter_map(|(k, s)| s.value.as_ref().map(|v| (k, v)))
    }

    /// Keys changed by the current command, each once (without the values they had before it).
    pub fn keys_changed_in_command(&self) -> Vec<K> {
        let mut keys: Vec<K> = Vec::new();
        for (key, _) in &self.undo {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        keys
    }

    /// Keys changed by the current command, each once, with the value they had before it (`None`: the
    /// command created the row).
    pub fn changed_in_command(&self) -> Vec<(K, Option<V>)> {
        let mut seen: Vec<K> = Vec::new();
        let mut out = Vec::new();
        for (key, old) in &self.undo {
            if !seen.contains(key) {
                seen.push(key.clone());
                out.push((key.clone(), old.as_ref().and_then(|s| s.value.clone())));
            }
        }
        out
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Journal for Table<K, V> {
    fn begin(&mut self) {
        self.undo.clear();
    }

    fn undo(&mut self) {
        while let Some((key, old)) = self.undo.pop() {
            match old {
                Some(slot) => self.rows.insert(key, slot),
                None => self.rows.remove(&key),
            };
        }
    }
}

/// Rows the batch appends (entries, events, outbox): an undo truncates to the command's start.
#[derive(Debug)]
pub struct Log<V> {
    items: Vec<V>,
    mark: usize,
}

impl<V> Default for Log<V> {
    fn default() -> Self {
        Log { items: Vec::new(), mark: 0 }
    }
}

impl<V> Log<V> {
    pub fn push(&mut self, item: V) {
        self.items.push(item);
    }

    pub fn all(&self) -> &[V] {
        &self.items
    }

    /// What the current command appended.
    pub fn in_command(&self) -> &[V] {
        self.items.get(self.mark..).unwrap_or(&[])
    }
}

impl<V> Journal for Log<V> {
    fn begin(&mut self) {
        self.mark = self.items.len();
    }

    fn undo(&mut self) {
        self.items.truncate(self.mark);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undo_restores_every_row_the_command_touched_and_keeps_what_was_loaded() {
        let mut t: Table<u32, String> = Table::default();
        t.absorb(1, Some("a".into()));
        t.begin();
        t.put(2, "b".into());
        assert!(t.update(&1, |v| v.push('!')));
        t.absorb(3, None);
        t.remove(1);
        assert_eq!(t.changed_in_command(), vec![(2, None), (1, Some("a".to_owned()))]);
        t.undo();
        assert_eq!(t.get(&1).map(String::as_str), Some("a"));
        assert!(!t.knows(&2));
        assert!(t.knows(&3), "a load during the command stays known");
        assert_eq!(t.dirty().count(), 0);
    }

    #[test]
    fn a_loaded_row_never_replaces_the_batch_version() {
        let mut t: Table<u32, u32> = Table::default();
        t.begin();
        t.put(1, 10);
        t.absorb(1, Some(5));
        assert_eq!(t.get(&1), Some(&10));
        assert_eq!(t.dirty().collect::<Vec<_>>(), vec![(&1, &10)]);
    }

    #[test]
    fn a_log_undo_drops_what_the_command_appended() {
        let mut log: Log<u32> = Log::default();
        log.push(1);
        log.begin();
        log.push(2);
        assert_eq!(log.in_command(), &[2]);
        log.undo();
        assert_eq!(log.all(), &[1]);
    }
}
