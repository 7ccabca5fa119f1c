"""The emulated Lambda platform: a service of warm execution environments, each with its cgroups
(CPU quota and memory limit), its shaped loopback link, and the worker site its processes load."""
