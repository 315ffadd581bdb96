# nbgrader's exchange settings for every user of the hub.
#
# `deploy/jupyterhub/setup` fills in the placeholders (string.Template syntax) and writes the
# result to each user's ~/.jupyter/nbgrader_config.py. The instructor's copy also gets
# c.CourseDirectory.root, so the formgrader and the command line find the course folder.

c = get_config()  # noqa: F821 (defined by traitlets when nbgrader loads this file)

# The exchange folder is created by root with mode 1777 (sticky): with 755 the instructor
# cannot release, and without the sticky bit a student could rename the course's folder.
c.Exchange.root = "$exchange"
c.CourseDirectory.course_id = "$course_id"
