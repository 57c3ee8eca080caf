CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sources` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`node` text DEFAULT 'local' NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`path` text NOT NULL,
	`excludes` text DEFAULT '' NOT NULL,
	`schedule` text DEFAULT '' NOT NULL,
	`rpo_target_minutes` integer DEFAULT 60 NOT NULL,
	`built_in` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sources_name_unique` ON `sources` (`name`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`source_id` integer,
	`status` text NOT NULL,
	`requested_by` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`ended_at` integer,
	`files_done` integer DEFAULT 0 NOT NULL,
	`files_total` integer DEFAULT 0 NOT NULL,
	`bytes_done` integer DEFAULT 0 NOT NULL,
	`bytes_total` integer DEFAULT 0 NOT NULL,
	`new_bytes` integer,
	`snapshot_id` text,
	`error` text,
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `jobs_created_idx` ON `jobs` (`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_source_idx` ON `jobs` (`source_id`);--> statement-breakpoint
CREATE TABLE `snapshots` (
	`id` text PRIMARY KEY NOT NULL,
	`source_key` text NOT NULL,
	`time` integer NOT NULL,
	`ended_at` integer NOT NULL,
	`files` integer NOT NULL,
	`bytes` integer NOT NULL,
	`new_bytes` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`skipped` integer NOT NULL,
	`tags` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `snapshots_source_idx` ON `snapshots` (`source_key`,`ended_at`);