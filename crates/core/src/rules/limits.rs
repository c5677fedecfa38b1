//! Bounds of the rule language, checked when a rule is parsed so that evaluation is bounded by construction.

/// Nesting of nodes (conditions, operands, arguments, list elements), counted like the JSON form nests.
pub const RULE_DEPTH_MAX: usize = 32;
/// Nodes in one rule (conditions, operands, arguments and list elements together).
pub const RULE_NODES_MAX: usize = 1_000;
/// Elements of one list literal (`in [...]`).
pub const RULE_LIST_ITEMS_MAX: usize = 500;
/// Length of the text form accepted by the parser, in characters.
pub const RULE_TEXT_CHARS_MAX: usize = 20_000;
/// Length of one string literal, in characters (the length of a metadata string value).
pub const RULE_STRING_CHARS_MAX: usize = crate::limits::METADATA_STRING_CHARS_MAX;
/// Length of one number or money literal, in characters.
pub const RULE_NUMBER_CHARS_MAX: usize = 40;
/// Length of a `last_N_days` window: customer stats keep about 800 days of daily buckets.
pub const RULE_WINDOW_DAYS_MAX: u16 = 730;
/// Errors reported for one rule; past this the rule is so broken that more would not help.
pub const RULE_ERRORS_MAX: usize = 100;
