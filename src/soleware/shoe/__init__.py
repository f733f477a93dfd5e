"""shoe"""
