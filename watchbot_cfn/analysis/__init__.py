"""Reading rendered templates as data: references between resources and intrinsics resolved against a stack.

Below both the commands (graph, diff, local) and the simulator, so neither imports the other.
"""
