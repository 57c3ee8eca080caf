CREATE TABLE `nodes` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`agent_url` text NOT NULL,
	`secret` text NOT NULL,
	`service_host` text NOT NULL,
	`service_port` integer NOT NULL,
	`repository_key_id` text,
	`demo` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`rotated_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `nodes_name_unique` ON `nodes` (`name`);--> statement-breakpoint
CREATE TABLE `failover_groups` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`primary_node_id` text,
	`epoch` integer DEFAULT 0 NOT NULL,
	`reserved_epoch` integer DEFAULT 0 NOT NULL,
	`group_key` text NOT NULL,
	`endpoint_host` text NOT NULL,
	`endpoint_port` integer NOT NULL,
	`health_path` text,
	`shipping_interval_ms` integer DEFAULT 5000 NOT NULL,
	`probe_interval_ms` integer DEFAULT 1000 NOT NULL,
	`down_after` integer DEFAULT 3 NOT NULL,
	`up_after` integer DEFAULT 2 NOT NULL,
	`lease_ms` integer DEFAULT 6000 NOT NULL,
	`maintenance` integer DEFAULT false NOT NULL,
	`drill_schedule` text,
	`restore_tested_at` integer,
	`demo` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`primary_node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `failover_groups_name_unique` ON `failover_groups` (`name`);--> statement-breakpoint
CREATE TABLE `group_members` (
	`group_id` text NOT NULL,
	`node_id` text NOT NULL,
	`priority` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`group_id`, `node_id`),
	FOREIGN KEY (`group_id`) REFERENCES `failover_groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `drills` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`group_id` text NOT NULL,
	`node_id` text NOT NULL,
	`ok` integer NOT NULL,
	`snapshot_id` text,
	`data_time` integer,
	`time_to_ready_ms` integer,
	`error` text,
	`started_at` integer NOT NULL,
	FOREIGN KEY (`group_id`) REFERENCES `failover_groups`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `failover_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`group_id` text NOT NULL,
	`kind` text NOT NULL,
	`reason` text NOT NULL,
	`from_node_id` text,
	`to_node_id` text,
	`ok` integer NOT NULL,
	`error` text,
	`outage_started_at` integer NOT NULL,
	`rto_ms` integer,
	`rpo_ms` integer,
	`data_time` integer,
	`lost_writes` integer,
	`client_gap_ms` integer,
	`timeline` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`group_id`) REFERENCES `failover_groups`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `failover_events_group_idx` ON `failover_events` (`group_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `node_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`node_id` text NOT NULL,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`detail` text,
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `node_events_node_idx` ON `node_events` (`node_id`,`at`);--> statement-breakpoint
CREATE TABLE `node_samples` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`node_id` text NOT NULL,
	`at` integer NOT NULL,
	`resolution` text DEFAULT 'raw' NOT NULL,
	`probes` integer DEFAULT 1 NOT NULL,
	`ok_probes` integer NOT NULL,
	`latency_ms` real,
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `node_samples_node_idx` ON `node_samples` (`node_id`,`at`);