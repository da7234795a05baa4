//! The column sets of every table toolmark writes. Every row starts with the
//! image, host and volume it came from, so per-image files and batch roll-ups have
//! the same schema.

/// Columns every table starts with: `snapshot` is the shadow copy's number
/// (1 = oldest, as `toolmark info` lists them), empty for the live volume.
pub const CONTEXT: [&str; 4] = ["image", "host", "volume", "snapshot"];

/// Event fields that lateral-movement analysis filters on, as columns of evtx.csv
/// (Security, System, TaskScheduler and Sysmon names). Every field is also in
/// `event_data`.
pub const EVTX_FIELDS: [&str; 28] = [
    "SubjectUserName",
    "SubjectDomainName",
    "TargetUserName",
    "TargetDomainName",
    "LogonType",
    "IpAddress",
    "IpPort",
    "WorkstationName",
    "AuthenticationPackageName",
    "ProcessName",
    "NewProcessName",
    "ParentProcessName",
    "CommandLine",
    "ServiceName",
    "ImagePath",
    "ShareName",
    "RelativeTargetName",
    "TaskName",
    "Image",
    "ParentImage",
    "TargetImage",
    "GrantedAccess",
    "TargetFilename",
    "TargetObject",
    "Details",
    "Hashes",
    "ParentCommandLine",
    "User",
];

/// The column of [`EVTX_FIELDS`] that event field `name` fills, if any. Looked up
/// for every field of every event: the names of the right length only are compared.
pub fn evtx_field(name: &str) -> Option<usize> {
    /// Bit `i` of entry `n` is set when `EVTX_FIELDS[i]` is `n` bytes long.
    const BY_LENGTH: [u32; 32] = {
        let mut table = [0u32; 32];
        let mut i = 0;
        while i < EVTX_FIELDS.len() {
            table[EVTX_FIELDS[i].len()] |= 1 << i;
            i += 1;
        }
        table
    };
    let mut candidates = *BY_LENGTH.get(name.len())?;
    while candidates != 0 {
        let i = candidates.trailing_zeros() as usize;
        if EVTX_FIELDS[i] == name {
            return Some(i);
        }
        candidates &= candidates - 1;
    }
    None
}

/// evtx.csv after the context columns and before the fixed fields.
pub const EVTX_HEAD: [&str; 9] = [
    "file",
    "channel",
    "provider",
    "event_id",
    "record_id",
    "time",
    "computer",
    "level",
    "user_sid",
];

/// evtx.csv after the fixed fields: all fields as JSON, and for records carved
/// from unallocated space their chunk's volume offset, whether the chunk's
/// checksums held (live chunks too), whether a live log still holds the same
/// record, the record header's id and time where they differ from the event's
/// own `EventRecordID` and `TimeCreated` (exported logs renumber their headers),
/// and for records recovered from the unused space of a live log's chunk (also
/// `carved`, with their offset in the log) that chunk's number.
pub const EVTX_TAIL: [&str; 8] = [
    "event_data",
    "carved",
    "offset",
    "chunk_verified",
    "live_copy",
    "header_record_id",
    "header_time",
    "recovered_chunk",
];

/// prefetch.csv after the context columns (`carved` files: `offset` is where in
/// the volume the file started).
pub const PREFETCH: [&str; 21] = [
    "path",
    "executable",
    "hash",
    "version",
    "run_count",
    "last_run_1",
    "last_run_2",
    "last_run_3",
    "last_run_4",
    "last_run_5",
    "last_run_6",
    "last_run_7",
    "last_run_8",
    "volumes",
    "files_count",
    "files",
    "directories",
    "compressed",
    "damaged",
    "carved",
    "offset",
];

/// mft.csv after the context columns (`carved` records: `offset` is where in the
/// volume the record was found, `path` is rebuilt from the records carved with it).
pub const MFT: [&str; 21] = [
    "record",
    "sequence",
    "in_use",
    "is_directory",
    "path",
    "size",
    "si_created",
    "si_modified",
    "si_mft_modified",
    "si_accessed",
    "fn_created",
    "fn_modified",
    "fn_mft_modified",
    "fn_accessed",
    "si_attributes",
    "names",
    "streams",
    "link_count",
    "problems",
    "carved",
    "offset",
];

/// carved.csv after the context columns: what carving found that has no table of
/// its own (`evtx_record`: an event record outside any readable chunk, with its
/// text; `hive_key`: a key node of a deleted hive). `id` is the record id or the
/// key's cell offset in its hive.
pub const CARVED: [&str; 6] = ["kind", "offset", "time", "name", "id", "detail"];

/// usn.csv after the context columns.
pub const USN: [&str; 12] = [
    "usn",
    "time",
    "file_reference",
    "parent_reference",
    "parent_path",
    "name",
    "reasons",
    "attributes",
    "source_info",
    "security_id",
    "version",
    "offset",
];

/// amcache.csv after the context columns.
pub const AMCACHE: [&str; 24] = [
    "hive_file",
    "kind",
    "key_path",
    "key_last_write",
    "path",
    "name",
    "sha1",
    "size",
    "link_date",
    "product",
    "publisher",
    "version",
    "program_id",
    "install_date",
    "file_modified",
    "original_file_name",
    "product_version",
    "bin_file_version",
    "bin_product_version",
    "binary_type",
    "language",
    "long_path_hash",
    "usn",
    "is_os_component",
];

/// shimcache.csv after the context columns.
pub const SHIMCACHE: [&str; 10] = [
    "hive_file",
    "control_set",
    "position",
    "path",
    "last_modified",
    "executed",
    "insert_flags",
    "file_size",
    "data_size",
    "format",
];

/// bam.csv after the context columns.
pub const BAM: [&str; 6] = [
    "hive_file",
    "control_set",
    "service",
    "sid",
    "path",
    "last_execution",
];

/// userassist.csv after the context columns.
pub const USERASSIST: [&str; 10] = [
    "hive_file",
    "user",
    "guid",
    "name",
    "raw_name",
    "run_count",
    "focus_count",
    "focus_time_ms",
    "last_run",
    "layout",
];

/// services.csv after the context columns.
pub const SERVICES: [&str; 11] = [
    "hive_file",
    "control_set",
    "name",
    "display_name",
    "image_path",
    "service_dll",
    "start",
    "start_type",
    "service_type",
    "account",
    "key_last_write",
];

/// tasks.csv after the context columns.
pub const TASKS: [&str; 18] = [
    "hive_file",
    "name",
    "id",
    "path",
    "uri",
    "author",
    "date",
    "created",
    "last_run",
    "key_last_write",
    "xml_file",
    "command",
    "arguments",
    "xml_author",
    "registration_date",
    "run_as",
    "triggers",
    "xml_problem",
];

/// registry.csv after the context columns.
pub const REGISTRY: [&str; 11] = [
    "kind",
    "hive_file",
    "user",
    "key_path",
    "value_name",
    "found",
    "value_type",
    "data",
    "key_last_write",
    "tools",
    "note",
];

/// timeline.csv: Timesketch's required columns first, then where the row came from.
pub const TIMELINE: [&str; 10] = [
    "datetime",
    "timestamp_desc",
    "message",
    "image",
    "host",
    "volume",
    "snapshot",
    "artifact",
    "source_file",
    "reference",
];

/// errors.csv: one row per thing that could not be read (`snapshot` last, so the
/// columns earlier releases wrote keep their places).
pub const ERRORS: [&str; 6] = ["image", "volume", "path", "stage", "error", "snapshot"];

/// The full header of a table: context columns plus `rest`.
pub fn with_context(rest: &[&'static str]) -> Vec<&'static str> {
    CONTEXT.iter().chain(rest).copied().collect()
}

/// The full evtx.csv header.
pub fn evtx_header() -> Vec<&'static str> {
    CONTEXT
        .iter()
        .chain(&EVTX_HEAD)
        .chain(&EVTX_FIELDS)
        .chain(&EVTX_TAIL)
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each column's name finds its column; anything else (another case, a name of
    /// a column's length, a name longer than any) finds none.
    #[test]
    fn evtx_field_finds_exactly_the_columns() {
        for (i, name) in EVTX_FIELDS.iter().enumerate() {
            assert_eq!(evtx_field(name), Some(i), "{name}");
            assert_eq!(evtx_field(&name.to_lowercase()), None, "{name}");
        }
        for name in ["", "Data", "Imagf", "SubjectUserSid", &"x".repeat(40)] {
            assert_eq!(evtx_field(name), None, "{name}");
        }
    }
}
