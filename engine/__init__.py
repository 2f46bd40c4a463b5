"""The rules engine: facts in, findings and fix plans out.

This package knows nothing about SST or AWS. It loads YAML rules, compiles their
conditions to Python closures, matches them against facts indexed by kind and
plans fixes through the fixer registry.
"""
