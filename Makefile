# MailSneaker: build, install and package.
#   make build                     ./mailsneaker, version stamped
#   make install [PREFIX=/usr/local] [DESTDIR=]
#   make uninstall [PREFIX=/usr/local] [DESTDIR=]
#   make dist                      dist/*.deb, *.rpm, *.tar.gz, *.zip, SHA256SUMS
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

# nfpm builds the .deb and .rpm; a pinned tool like go-winres, so the main
# module's go.mod does not carry its ~60 packaging dependencies.
NFPM_PKG ?= github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2

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
# Packages: a Debian/RPM version starts with a digit and holds no hyphen. A
# tag "v1.2.3" gives 1.2.3 ("v1.2.3-4-gabc" 1.2.3.4.gabc); an untagged
# "a93e79b" gives 0~a93e79b, which sorts before any release.
PKGVERSION := $(shell echo '$(VERSION)' | sed -E 's/^v([0-9]+\.)/\1/; /^[0-9]+\./!s/^/0~/; s/-/./g')
DATE    := $(shell date -u -d @$(EPOCH) +%F)
APPID   := io.github.mailsneaker.MailSneaker
HOMEPAGE   ?= https://github.com/mailsneaker/mailsneaker
MAINTAINER ?= $(shell git log -1 --format='%an <%ae>' 2>/dev/null)

.PHONY: all build icons docs install uninstall dist clean test
all: build icons

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o mailsneaker .

icons:
	$(GO) run ./icons/cmd/mkicons -out $(ICONS)/hicolor -ico $(ICONS)/mailsneaker.ico

# The man page and the shell completions, made from cli.Help (the source of
# `mailsneaker -h`).
docs:
	$(GO) run ./cli/cmd/mkman -out dist/docs -version $(VERSION) -epoch $(EPOCH)

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

# A Linux tree is the binary, the launcher, icons, AppStream metainfo, the
# man page and completions under a prefix: the tarball holds it as is (copy
# it under ~/.local or /usr/local), and nfpm packs it into a .deb and an .rpm
# (packaging/nfpm.yaml). The Windows zip holds the .exe, its icon and a README.
# No licence file: the project has not chosen a licence yet.
dist: icons docs
	rm -rf dist/stage dist/*.tar.gz dist/*.zip dist/*.deb dist/*.rpm dist/SHA256SUMS
	GOBIN=$(CURDIR)/dist/tools $(GO) install $(NFPM_PKG)
	set -e; for arch in amd64 arm64; do \
		d=dist/stage/mailsneaker-$(VERSION)-linux-$$arch; \
		mkdir -p $$d/share/applications $$d/share/icons $$d/share/metainfo $$d/share/man/man1 \
			$$d/share/bash-completion/completions $$d/share/zsh/site-functions \
			$$d/share/fish/vendor_completions.d $$d/share/doc/mailsneaker; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build $(RELEASE) -o $$d/bin/mailsneaker .; \
		cp README.md $$d/; \
		cp autostart/launcher.desktop $$d/share/applications/mailsneaker.desktop; \
		cp -r $(ICONS)/hicolor $$d/share/icons/; \
		sed 's|@HOMEPAGE@|$(HOMEPAGE)|g; s|@VERSION@|$(PKGVERSION)|g; s|@DATE@|$(DATE)|g' \
			packaging/mailsneaker.metainfo.xml.in > $$d/share/metainfo/$(APPID).metainfo.xml; \
		gzip -9n < dist/docs/mailsneaker.1 > $$d/share/man/man1/mailsneaker.1.gz; \
		cp dist/docs/mailsneaker.bash $$d/share/bash-completion/completions/mailsneaker; \
		cp dist/docs/_mailsneaker $$d/share/zsh/site-functions/_mailsneaker; \
		cp dist/docs/mailsneaker.fish $$d/share/fish/vendor_completions.d/mailsneaker.fish; \
		cp packaging/copyright $$d/share/doc/mailsneaker/copyright; \
		printf 'mailsneaker ($(PKGVERSION)) unstable; urgency=medium\n\n  * Built from $(VERSION).\n\n -- $(MAINTAINER)  %s\n' \
			"$$(date -u -R -d @$(EPOCH))" | gzip -9n > $$d/share/doc/mailsneaker/changelog.gz; \
		chmod -R u=rwX,go=rX $$d; chmod 0755 $$d/bin/mailsneaker; \
		find $$d -exec touch -d @$(EPOCH) {} +; \
		tar -C dist/stage --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(EPOCH) \
			-czf dist/mailsneaker-$(VERSION)-linux-$$arch.tar.gz mailsneaker-$(VERSION)-linux-$$arch; \
		for fmt in deb rpm; do \
			ARCH=$$arch STAGE=$$d PKGVERSION='$(PKGVERSION)' MAINTAINER='$(MAINTAINER)' HOMEPAGE='$(HOMEPAGE)' \
			SOURCE_DATE_EPOCH=$(EPOCH) dist/tools/nfpm package -f packaging/nfpm.yaml -p $$fmt -t dist/ >dist/nfpm.log 2>&1 || \
				{ cat dist/nfpm.log; exit 1; }; \
		done; \
	done
	set -e; d=dist/stage/mailsneaker-$(VERSION)-windows-amd64; mkdir -p $$d; \
	trap 'rm -f $(CURDIR)/rsrc_windows_amd64.syso' EXIT; \
	$(WINRES) simply --arch amd64 --out rsrc --manifest gui --icon $(ICONS)/mailsneaker.ico \
		--product-name MailSneaker --file-description "MailSneaker mail notifier"; \
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w -H=windowsgui $(LDFLAGS)" \
		-o $$d/mailsneaker.exe .; \
	cp packaging/README-windows.txt $$d/README.txt; \
	cp $(ICONS)/mailsneaker.ico $$d/; \
	cp $(ICONS)/hicolor/256x256/apps/mailsneaker.png $$d/mailsneaker.png; \
	find $$d -exec touch -d @$(EPOCH) {} +; \
	cd dist/stage && find mailsneaker-$(VERSION)-windows-amd64 | LC_ALL=C sort | \
		TZ=UTC zip -qX -@ ../mailsneaker-$(VERSION)-windows-amd64.zip
	cd dist && sha256sum *.deb *.rpm *.tar.gz *.zip > SHA256SUMS
	rm -rf dist/stage dist/nfpm.log
	@ls -l dist/*.deb dist/*.rpm dist/*.tar.gz dist/*.zip dist/SHA256SUMS

# The suite with every service it needs (Dovecot, D-Bus, Xvfb...), each a
# private instance on free ports: see scripts/test.
test:
	scripts/test $(ARGS)

clean:
	rm -rf dist mailsneaker
