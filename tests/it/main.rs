//! The integration tests: one binary, one module per behaviour, each named
//! as the sentence it shows (the layout of uv's and cargo's test suites).
//! `support` (the in-memory file system, layouts, golden fixtures, child
//! processes), `cli_support` (the `catalog` binary) and `nats_support` (a
//! real `nats-server`) are declared once.

#[cfg(feature = "cli")]
mod cli_support;
#[cfg(all(feature = "nats", feature = "cli"))]
mod nats_support;
mod support;

#[cfg(feature = "signature")]
mod a_certificate_signature_verifies_against_the_roots_given;
mod a_copied_model_never_shares_its_bytes_with_a_file_someone_else_can_write;
mod a_copy_import_of_a_directory_swapped_mid_import_never_copies_an_outside_file;
#[cfg(feature = "cli")]
mod a_corrupted_blob_registers_the_model_as_failed_and_adopt_exits_1;
#[cfg(feature = "signature")]
mod a_failed_signature_keeps_the_last_good_one_and_its_bundle;
mod a_fifo_or_device_in_place_of_a_model_file_never_hangs_verify_or_adopt;
mod a_file_rewritten_during_verification_never_passes_the_fast_path;
mod a_file_rewritten_through_a_shared_mapping_never_passes_the_fast_path;
mod a_hugging_face_snapshot_is_judged_by_its_publishers_listing;
#[cfg(feature = "signature")]
mod a_model_signing_signature_verifies_and_records_who_signed;
mod a_model_whose_files_collide_is_skipped_and_the_rest_adopted;
mod a_move_import_never_loses_the_source_whatever_fails;
mod a_moved_file_is_never_put_back_through_a_symlink_planted_in_its_path;
#[cfg(feature = "cli")]
mod a_moved_file_whose_path_is_taken_is_kept_and_reported;
mod a_plain_directory_or_gguf_file_is_adopted_by_link_with_its_digest_computed;
mod a_planted_move_intent_never_leads_outside_the_root;
mod a_shared_blob_store_is_followed_only_into_itself;
#[cfg(feature = "signature")]
mod a_signature_over_a_hugging_face_snapshot_verifies_after_adoption;
#[cfg(feature = "signature")]
mod a_signature_that_cannot_be_checked_is_refused_and_nothing_is_recorded;
mod a_source_directory_itself_swapped_for_a_symlink_mid_import_never_brings_in_an_outside_file;
mod a_source_directory_swapped_for_a_symlink_mid_import_never_brings_in_an_outside_file;
mod a_source_file_swapped_for_a_fifo_mid_import_never_hangs_or_registers_an_empty_file;
mod a_staged_copy_is_never_more_readable_than_its_source;
mod a_symlink_out_of_a_source_is_refused_and_nothing_is_copied;
mod a_symlink_swapped_in_mid_walk_never_leads_outside_the_root;
mod acknowledgement_never_precedes_durability;
mod adopting_a_file_through_a_symlink_never_hard_links_the_file_it_leads_to;
mod adopting_a_hugging_face_cache_links_every_snapshot_without_copying;
mod adopting_a_store_whose_manifest_or_ref_is_swapped_for_a_fifo_never_hangs;
mod adopting_an_ollama_store_verifies_every_layer_against_its_manifest;
#[cfg(feature = "cli")]
mod adopting_never_replaces_a_model_that_came_from_elsewhere;
mod adopting_the_same_store_again_writes_no_record;
mod adoption_reads_a_models_files_on_every_core;
mod an_adoption_of_a_directory_swapped_mid_adoption_never_links_or_registers_an_outside_file;
mod an_oversized_move_import_is_refused_before_anything_moves;
mod bit_flips_in_older_records_are_refused;
mod caches_written_by_huggingface_hub_are_adopted_as_it_sees_them;
#[cfg(feature = "cli")]
mod check_names_what_it_finds_where_a_file_should_be;
#[cfg(feature = "cli")]
mod check_never_says_ok_when_something_is_wrong;
#[cfg(feature = "cli")]
mod cli_a_closed_or_broken_stdout_never_panics;
#[cfg(feature = "cli")]
mod cli_add_records_where_a_model_came_from;
#[cfg(feature = "cli")]
mod cli_adopt_recognises_the_layout_and_reports_each_model;
#[cfg(feature = "cli")]
mod cli_an_odd_user_name_is_fitted_into_the_actor;
#[cfg(feature = "cli")]
mod cli_events_stream_as_json_lines;
#[cfg(feature = "cli")]
mod cli_every_command_round_trips_a_model;
#[cfg(feature = "cli")]
mod cli_evict_and_gc_reclaim_space;
#[cfg(feature = "cli")]
mod cli_exit_codes_follow_the_contract;
#[cfg(feature = "cli")]
mod cli_gc_evict_and_delete_exit_1_when_a_file_cannot_be_removed;
#[cfg(feature = "cli")]
mod cli_tampering_fails_verify_and_check;
#[cfg(all(feature = "cli", feature = "signature"))]
mod cli_verify_signature_records_the_signer_and_exits_1_on_a_failed_one;
mod compaction_then_reopen_yields_the_same_state;
mod concurrent_imports_are_single_flight;
mod crash_at_every_step;
#[cfg(feature = "cli")]
mod credentials_in_any_position_never_reach_the_journal_logs_or_errors;
mod credentials_never_reach_logs_or_the_journal;
mod dedup_import_writes_only_new_bytes;
mod dedup_of_shared_files;
mod delete_semantics;
mod events_follow_resumes_at_a_byte_offset;
mod every_field_round_trips_through_reopen;
#[cfg(feature = "signature")]
mod every_tampered_signature_fails_as_model_signing_says;
mod failed_removals_are_reported_by_evict_delete_and_gc;
mod failed_writes_are_never_shown_or_built_upon;
#[cfg(feature = "cli")]
mod file_names_that_cannot_be_stored_are_refused_before_anything_is_written;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_a_cluster_with_one_server_down_still_answers;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_a_message_id_taken_by_another_node_loses_no_event;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_a_new_signing_key_keeps_the_old_events_verifiable;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_a_new_stream_resumes_from_the_node_claims;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_a_server_url_with_credentials_is_refused;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_credentials_never_reach_logs_or_output;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_export_killed_repeatedly_publishes_each_event_exactly_once;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_export_publishes_each_event_as_events_json_prints_it;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_export_refuses_a_catalog_restored_behind_the_stream;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_export_refuses_a_node_name_that_holds_another_catalogs_history;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_export_refuses_a_stream_or_bucket_that_would_break_it;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_follow_publishes_each_new_event_once;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_follow_stops_on_a_permanent_refusal;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_history_takes_each_event_from_its_subject;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_junk_on_a_nodes_subject_is_named_and_explained;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_ls_of_three_nodes_equals_each_nodes_list;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_ls_takes_each_row_from_its_key_and_its_nodes_claim;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_one_live_server_of_three_listed_is_enough;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_verify_keeps_only_what_each_nodes_key_signed;
#[cfg(all(feature = "nats", feature = "cli"))]
mod fleet_without_jetstream_says_so;
mod gc_grace_is_not_fooled_by_an_old_mtime;
mod gc_sweeps_orphans_within_budgets;
mod golden_fixtures_of_format_v1;
mod golden_fixtures_of_format_v2;
mod golden_fixtures_of_format_v3;
mod group_commit_shares_fsyncs;
mod hashing_matches_reference;
mod hf_references_are_read_as_the_hub_reads_them;
mod history_and_locate_by_index_equal_a_full_read;
mod history_survives_compaction;
#[cfg(feature = "cli")]
mod hostile_stores_are_refused_before_anything_is_written;
mod import_is_all_or_nothing;
mod import_verify_evict_round_trip;
#[cfg(feature = "cli")]
mod in_place_models_are_never_removed_by_evict_delete_or_gc;
mod incomplete_downloads_are_skipped_and_reported;
mod interop_minimal_provisioner;
mod io_failure_poisons_the_handle;
#[cfg(feature = "metrics")]
mod metrics_reach_the_facade;
mod model_based_property_test;
mod model_ref_parsing;
mod newer_format_version_is_refused;
mod parameter_values_are_shown_only_for_allow_listed_names;
mod paths_never_escape_the_root;
mod planted_symlinks_in_the_store_layout_are_refused;
mod power_loss_keeps_every_acknowledged_record;
mod read_only_handles_see_a_consistent_prefix;
mod readers_beside_a_compacting_writer;
mod reopen_after_every_kind_of_record;
mod repair_keeps_each_salvaged_record_in_a_segment_of_its_format;
mod repair_salvages_every_valid_record;
mod second_writer_is_busy;
mod segment_files_missing_duplicated_or_stale_are_refused;
mod sigkill_during_a_move_import_loses_no_source_bytes;
mod sigkill_during_an_adoption_never_changes_the_cache;
mod sigkill_mid_stream_loses_no_acknowledged_record;
mod snapshot_edits_are_bound_to_the_chain;
mod tampering_is_caught_by_the_chain_check;
#[cfg(feature = "cli")]
mod the_catalog_root_is_never_adopted_or_imported;
#[cfg(feature = "signature")]
mod the_model_transparency_compatibility_vectors_verify;
mod truncation_at_every_offset_recovers_the_prefix;
mod trust_is_verified_only_against_a_publisher_digest;
mod verification_is_about_the_bytes_hashed;
mod verify_fast_path_only_when_asked;
#[cfg(feature = "cli")]
mod verify_hashes_each_shared_file_once;
mod verify_never_reads_a_model_file_far_past_its_registered_size;
mod verifying_a_model_in_place_never_reads_a_file_outside_it;
