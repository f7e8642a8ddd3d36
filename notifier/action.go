package notifier

// Actions passed to a Notifier's onAction.
const (
	ActionOpen     = "open"      // the user clicked the notification or its Open button
	ActionMarkRead = "mark-read" // the user clicked Mark read: mark the note's IDs read
)
