CREATE TABLE `node_locks` (
	`name` text PRIMARY KEY NOT NULL,
	`node_id` text NOT NULL,
	`created_at` integer NOT NULL
);
