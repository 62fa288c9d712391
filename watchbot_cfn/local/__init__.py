"""``watchbot-cfn local``'s pipeline: a moto endpoint, the stack deployed to it and the watcher run against it."""
