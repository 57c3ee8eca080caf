ALTER TABLE `failover_groups` ADD `synchronous` text DEFAULT 'off' NOT NULL;--> statement-breakpoint
ALTER TABLE `failover_groups` ADD `synchronous_timeout_ms` integer DEFAULT 2000 NOT NULL;