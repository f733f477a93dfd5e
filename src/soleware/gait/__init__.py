"""The gait engine: IMU samples of one foot to strides, distance and running form. Depends on numpy/scipy only."""
