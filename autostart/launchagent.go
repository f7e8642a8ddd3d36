package autostart

import (
	"encoding/xml"
	"strings"
)

// agentLabel is the LaunchAgent's label and file name (without .plist).
const agentLabel = "org.mailsneaker"

// launchAgent is the LaunchAgent property list that starts exe at login.
func launchAgent(exe string) string {
	var path strings.Builder
	xml.EscapeText(&path, []byte(exe)) // a strings.Builder does not fail
	return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + agentLabel + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>` + path.String() + `</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`
}
