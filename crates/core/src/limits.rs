//! Every bound the system enforces, as named constants with the unit last.

/// Largest money amount accepted anywhere, in minor units (10^13 = 100 billion major units at 2 decimals).
pub const MONEY_MINOR_UNITS_MAX: i64 = 10_000_000_000_000;
/// Largest number of points in a single operation (earn, add, remove).
pub const POINTS_PER_OPERATION_MAX: i64 = 1_000_000_000_000;
/// Largest budget of points an earning rule may issue in total.
pub const POINTS_BUDGET_MAX: i64 = 1_000_000_000_000_000;
/// Largest quantity of one order item.
pub const ITEM_QUANTITY_MAX: i64 = 1_000_000;
/// Items in one order.
pub const ORDER_ITEMS_MAX: usize = 500;
/// Collections named on one order item.
pub const ITEM_COLLECTIONS_MAX: usize = 20;
/// Events in one batch request.
pub const EVENTS_PER_BATCH_MAX: usize = 1_000;
/// Keys in one metadata object.
pub const METADATA_KEYS_MAX: usize = 50;
/// Length of a metadata key, in characters.
pub const METADATA_KEY_CHARS_MAX: usize = 64;
/// Length of a metadata string value, in characters.
pub const METADATA_STRING_CHARS_MAX: usize = 1_024;
/// Elements of a metadata list value.
pub const METADATA_LIST_ITEMS_MAX: usize = 50;
/// Largest whole number a metadata number holds exactly (2^53; numbers are 64-bit floats).
pub const METADATA_EXACT_INTEGER_MAX: u64 = 1 << 53;
/// Length of a `source_id`, in characters.
pub const SOURCE_ID_CHARS_MAX: usize = 128;
/// Length of names, emails and other short free text, in characters.
pub const SHORT_TEXT_CHARS_MAX: usize = 256;
/// Length of a phone number, in characters.
pub const PHONE_CHARS_MAX: usize = 32;
/// Length of a postal code, in characters.
pub const POSTAL_CODE_CHARS_MAX: usize = 32;
/// Length of a program's points label, in characters.
pub const POINTS_LABEL_CHARS_MAX: usize = 32;
/// Length of an IANA time zone name, in characters.
pub const TIME_ZONE_CHARS_MAX: usize = 64;
/// Length of a reason given for a manual points change, in characters.
pub const REASON_CHARS_MAX: usize = 512;
/// Length of an event name, in characters.
pub const EVENT_NAME_CHARS_MAX: usize = 64;
/// Length of an idempotency key, in characters.
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 255;
/// Largest `after_days` expiry.
pub const EXPIRY_DAYS_MAX: i32 = 36_600;
/// Largest `after_months` expiry.
pub const EXPIRY_MONTHS_MAX: i32 = 1_200;
/// Window of "points expiring soon", in days.
pub const EXPIRING_SOON_DAYS_MAX: i32 = 3_660;
/// Page size of every cursor list.
pub const PAGE_SIZE_MAX: usize = 100;
/// Default page size of every cursor list.
pub const PAGE_SIZE_DEFAULT: usize = 20;
/// Programs per project.
pub const PROGRAMS_PER_PROJECT_MAX: usize = 100;
/// Length of a member card code, in characters.
pub const CARD_CODE_CHARS_MAX: usize = 64;
/// Length of a generated member card code, in characters.
pub const CARD_CODE_GENERATED_CHARS: usize = 12;
