# MailSneaker: build, install and package.
#   make build                     ./mailsneaker, version stamped
#   make install [PREFIX=/usr/local] [DESTDIR=]
#   make uninstall [PREFIX=/usr/local] [DESTDIR=]
#   make dist                      dist/*.tar.gz, dist/*.zip, dist/SHA256SUMS
#   make clean
#   make test [ARGS='-run Dovecot']  the whole suite via scripts/test (installs what it needs)
# Intermediate files go to dist/ (ignored by git); install needs no Go, so
# `make && sudo make install` works.

PREFIX  ?= /usr/local
DESTDIR ?=
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# go-winres puts the icon and a manifest into the Windows .exe; run as a
# pinned tool, so go.mod does not change.
WINRES  ?= $(GO) run github.com/tc-hib/go-winres@v0.3.3

LDFLAGS := -X main.version=$(VERSION)
# Release binaries: no symbol table or DWARF, paths trimmed.
RELEASE := -trimpath -ldflags "-s -w $(LDFLAGS)"
ICONS   := dist/icons
SIZES   := 16 22 24 32 48 64 128 256
BINDIR  := $(DESTDIR)$(PREFIX)/bin
APPDIR  := $(DESTDIR)$(PREFIX)/share/applications
HICOLOR := $(DESTDIR)$(PREFIX)/share/icons/hicolor
# A fixed timestamp for archive members (the last commit's), so rebuilding a
# commit gives the same archives.
EPOCH   := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: all build icons install uninstall dist clean test
all: build icons

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o mailsneaker .

icons:
	$(GO) run ./icons/cmd/mkicons -out $(ICONS)/hicolor -ico $(ICONS)/mailsneaker.ico

# The launcher's Exec gets the installed path, so a PREFIX off PATH works too.
install:
	@test -f mailsneaker && test -d $(ICONS)/hicolor || { echo "run make first" >&2; exit 1; }
	install -d $(BINDIR) $(APPDIR)
	install -m 0755 mailsneaker $(BINDIR)/mailsneaker
	sed 's|^Exec=mailsneaker$$|Exec=$(PREFIX)/bin/mailsneaker|' autostart/launcher.desktop > $(APPDIR)/mailsneaker.desktop
	chmod 0644 $(APPDIR)/mailsneaker.desktop
	for s in $(SIZES); do \
		install -D -m 0644 $(ICONS)/hicolor/$${s}x$${s}/apps/mailsneaker.png $(HICOLOR)/$${s}x$${s}/apps/mailsneaker.png || exit 1; \
	done
	$(if $(DESTDIR),,-gtk-update-icon-cache -q -t $(HICOLOR) 2>/dev/null)
	$(if $(DESTDIR),,-update-desktop-database -q $(APPDIR) 2>/dev/null)

uninstall:
	rm -f $(BINDIR)/mailsneaker $(APPDIR)/mailsneaker.desktop
	for s in $(SIZES); do rm -f $(HICOLOR)/$${s}x$${s}/apps/mailsneaker.png; done
	$(if $(DESTDIR),,-gtk-update-icon-cache -q -t $(HICOLOR) 2>/dev/null)

# Linux archives hold the binary, the launcher and the icons (install.sh-free:
# copy them under ~/.local or /usr/local); the Windows zip holds the .exe.
dist: icons
	rm -rf dist/stage dist/*.tar.gz dist/*.zip dist/SHA256SUMS
	set -e; for arch in amd64 arm64; do \
		d=dist/stage/mailsneaker-$(VERSION)-linux-$$arch; \
		mkdir -p $$d/share/applications $$d/share/icons; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build $(RELEASE) -o $$d/bin/mailsneaker .; \
		cp README.md $$d/; \
		cp autostart/launcher.desktop $$d/share/applications/mailsneaker.desktop; \
		cp -r $(ICONS)/hicolor $$d/share/icons/; \
		tar -C dist/stage --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(EPOCH) \
			-czf dist/mailsneaker-$(VERSION)-linux-$$arch.tar.gz mailsneaker-$(VERSION)-linux-$$arch; \
	done
	set -e; d=dist/stage/mailsneaker-$(VERSION)-windows-amd64; mkdir -p $$d; \
	trap 'rm -f $(CURDIR)/rsrc_windows_amd64.syso' EXIT; \
	$(WINRES) simply --arch amd64 --out rsrc --manifest gui --icon $(ICONS)/mailsneaker.ico \
		--product-name MailSneaker --file-description "MailSneaker mail notifier"; \
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w -H=windowsgui $(LDFLAGS)" \
		-o $$d/mailsneaker.exe .; \
	cp README.md $$d/; \
	find $$d -exec touch -d @$(EPOCH) {} +; \
	cd dist/stage && zip -qrX ../mailsneaker-$(VERSION)-windows-amd64.zip mailsneaker-$(VERSION)-windows-amd64
	cd dist && sha256sum *.tar.gz *.zip > SHA256SUMS
	rm -rf dist/stage
	@ls -l dist/*.tar.gz dist/*.zip dist/SHA256SUMS

# The suite with every service it needs (Dovecot, D-Bus, Xvfb...), each a
# private instance on free ports: see scripts/test.
test:
	scripts/test $(ARGS)

clean:
	rm -rf dist mailsneaker
