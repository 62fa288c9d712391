"""Pure resource builders: ``build(options, names)`` returns troposphere objects.

Each module owns one concern. Builders refer to other builders' resources only
through ``watchbot_cfn.naming.Names``. A builder may also yield
``(condition_name, condition)`` tuples for the Conditions section.
"""
