CREATE TABLE `copy_repositories` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`location` text NOT NULL,
	`password_file` text NOT NULL,
	`s3_credentials` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `copy_repositories_name_unique` ON `copy_repositories` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `copy_repositories_location_unique` ON `copy_repositories` (`location`);--> statement-breakpoint
CREATE TABLE `copy_status` (
	`repository_id` integer NOT NULL,
	`source_key` text NOT NULL,
	`newest_snapshot_at` integer NOT NULL,
	`copied_at` integer NOT NULL,
	PRIMARY KEY(`repository_id`, `source_key`),
	FOREIGN KEY (`repository_id`) REFERENCES `copy_repositories`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `copy_status_source_idx` ON `copy_status` (`source_key`);--> statement-breakpoint
ALTER TABLE `plans` ADD `copy_repository_id` integer REFERENCES copy_repositories(id);--> statement-breakpoint
ALTER TABLE `plans` ADD `copy_schedule` text DEFAULT '' NOT NULL;