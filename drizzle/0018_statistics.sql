CREATE TABLE `backup_figures` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` integer NOT NULL,
	`job_id` integer,
	`snapshot_id` text NOT NULL,
	`previous_id` text,
	`at` integer NOT NULL,
	`bytes` integer NOT NULL,
	`new_raw_bytes` integer NOT NULL,
	`new_stored_bytes` integer NOT NULL,
	`new_blobs` integer NOT NULL,
	`new_ratio` real NOT NULL,
	`compression_ratio` real,
	`new_ratio_score` real,
	`compression_score` real,
	`flagged` integer NOT NULL,
	`why` text,
	`dismissed_by` text,
	`dismissed_at` integer,
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `backup_figures_snapshot_id_unique` ON `backup_figures` (`snapshot_id`);--> statement-breakpoint
CREATE INDEX `backup_figures_source_idx` ON `backup_figures` (`source_id`,`at`);--> statement-breakpoint
CREATE TABLE `repository_stats` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`repository` text NOT NULL,
	`at` integer NOT NULL,
	`snapshots` integer NOT NULL,
	`packs` integer NOT NULL,
	`pack_bytes` integer NOT NULL,
	`logical_bytes` integer NOT NULL,
	`raw_bytes` integer NOT NULL,
	`stored_bytes` integer NOT NULL,
	`sources` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `repository_stats_repository_idx` ON `repository_stats` (`repository`,`at`);