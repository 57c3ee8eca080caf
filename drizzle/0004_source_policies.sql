ALTER TABLE `sources` ADD `keep_last` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `sources` ADD `keep_daily` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `sources` ADD `pre_command` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `sources` ADD `post_command` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `sources` ADD `command_timeout_seconds` integer DEFAULT 60 NOT NULL;