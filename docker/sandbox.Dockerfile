# The image DockerSandbox runs code in: a slim Python, numpy, and the palaestra worker.
#
# Build it from the root of the palaestra source tree:
#
#     docker build -f docker/sandbox.Dockerfile -t palaestra-sandbox .
#
# Other packages: --build-arg PACKAGES="numpy pandas scipy" (PACKAGES="" for none). Use it with
# sandbox="docker" on an env, or DockerSandbox(image="palaestra-sandbox:latest") (the default).
# The container's settings (no network, read-only root, limits, user) and its command come from
# DockerSandbox, not from here.

FROM python:3.11-slim

# Mount points for the tmpfs working directory and the bind-mounted socket directory; and no
# password hashes (nothing in the sandbox logs in).
ARG PACKAGES="numpy==2.3.5"
RUN if [ -n "$PACKAGES" ]; then pip install --no-cache-dir $PACKAGES; fi \
    && mkdir -p /sandbox /run/palaestra /opt/palaestra-sandbox \
    && rm -f /etc/shadow /etc/shadow- /etc/gshadow /etc/gshadow-

# The worker and the wire format it imports: standard library only, never palaestra itself.
COPY palaestra/sandbox/worker.py palaestra/sandbox/wire.py /opt/palaestra-sandbox/
RUN chmod 0755 /opt/palaestra-sandbox && chmod 0644 /opt/palaestra-sandbox/*.py

ENV PYTHONDONTWRITEBYTECODE=1 MPLBACKEND=Agg
USER 65534:65534
WORKDIR /
# No entrypoint: DockerSandbox gives the command. `docker run -it palaestra-sandbox` opens Python.
ENTRYPOINT []
CMD ["python3"]
