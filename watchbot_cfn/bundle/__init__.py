"""``watchbot-cfn build-watcher``: the watcher as one executable for any Linux image.

It freezes the runtime (``watchbot_cfn.runtime``) with PyInstaller into a
single file that needs no Python in the image, and with ``--static`` also no C
library (staticx). Modules: ``contents`` (what goes in: one list of AWS
services, the allowed packages), ``spec`` (the PyInstaller spec), ``elf``
(shared libraries made acceptable to staticx), ``build`` (running the
freezers, checking the result), ``command`` (the subcommand's arguments) and
``entry`` (the executable's ``__main__``, which goes into it). The builder needs
the ``bundle`` extra; this package itself imports nothing, so that ``entry``
can carry it into the executable.
"""
