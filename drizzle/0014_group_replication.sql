ALTER TABLE `failover_groups` ADD `replication` text DEFAULT 'copies' NOT NULL;--> statement-breakpoint
ALTER TABLE `failover_groups` ADD `base_interval_hours` real DEFAULT 6 NOT NULL;