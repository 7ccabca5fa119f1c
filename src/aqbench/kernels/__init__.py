"""Aggregation kernels: the same daily average and maximum, computed by different code.

``reference`` is the independent oracle every engine run is checked against.
"""
