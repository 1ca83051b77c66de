### DriveWatch's words in English: the window, the tray and the notifications.
###
### One catalog per language, embedded by drivewatch-core (toasts, tray) and imported by the
### window's UI, so every string exists once. Placeables are plain text, never markup: names
### from the drive are untrusted and each host renders them as text. Keys are shared with
### ru.ftl; a test fails when one of them lacks a key.

## The window
appName = DriveWatch
navChanges = Recent changes
navStatus = Status
navSettings = Settings
navMain = Main
needsAttention = needs attention
demoBadge = Demo mode
loading = Loading…
pausedUntil = { st_paused } until { $time }
resume = Resume
skipToContent = Skip to content
dismiss = Dismiss

## Sign-in
signInTitle = Sign in to Microsoft
signInIntro = DriveWatch watches your OneDrive and SharePoint libraries. Sign in with the account whose files you want to follow.
accountType = Account type
kindPersonal = Personal account
kindPersonalHint = Outlook.com, Hotmail, Live, Xbox
kindWork = Work or school account
kindWorkHint = Microsoft 365 from your organisation
kindAny = Either
kindAnyHint = Decide on the sign-in page
getCode = Get a sign-in code
gettingCode = Getting a code…
codeIntro = Open the sign-in page and enter this code:
userCode = Sign-in code
copy = Copy
copied = Copied
copyFailed = Could not copy; select the code and copy it by hand
openSignInPage = Open the sign-in page
orVisit = Or, on any device, go to { $uri }
expiresIn = The code expires in { $time }
waiting = Waiting for you to finish signing in…
cancel = Cancel
declinedTitle = Sign-in was declined
declinedText = The sign-in page says you declined. Nothing was changed.
tryAgain = Try again
expiredTitle = The code has expired
expiredText = Codes are valid for a few minutes only. Get a new one to continue.
newCode = Get a new code
offlineTitle = You seem to be offline
offlineText = DriveWatch cannot reach Microsoft right now. It keeps trying until the code expires; check your connection.
failedTitle = Sign-in failed
signedInTitle = Signed in
signedInAs = Signed in as { $name } ({ $username })
continue = Continue
noClientIdTitle = DriveWatch needs an application ID
noClientIdText = To sign in, DriveWatch needs the application (client) ID of an app registration in Microsoft Entra, with public client flows allowed.
noClientIdReadme = How to create one is described in the README, section “Registering DriveWatch with Microsoft”.
clientIdLabel = Application (client) ID
clientIdHint = A GUID such as 00000000-0000-0000-0000-000000000000
clientIdInvalid = This is not an application ID: expected 32 hexadecimal digits in five groups, like 00000000-0000-0000-0000-000000000000.
save = Save
backToApp = Back

## Changes
changesTitle = Recent changes
filterText = Search
filterTextPlaceholder = Name, folder or person
filterKinds = Kinds of change
filterWhere = Account or library
filterAll = All accounts and libraries
filterAccounts = Accounts
filterTargets = Libraries
clearFilters = Clear filters
kind_created = Created
kind_modified = Edited
kind_renamed = Renamed
kind_moved = Moved
kind_deleted = Deleted
openItem = Open { $name } in the browser
openFolder = Open folder
openFolderOf = Open the folder of { $name } in the browser
inFolder = in { $folder }
rootFolder = the top folder
fromPath = from { $path }
byPerson = by { $name }
byYou = by you
caughtUp = While DriveWatch was closed
caughtUpHint = Found when DriveWatch started again
noChanges = No changes yet. They appear here the moment something changes.
noMatches = No changes match these filters.
loadOlder = Load older changes
loadingOlder = Loading older changes…
endOfHistory = That is the whole history.
newChanges = { $count } new — show
loadFailed = Could not load changes: { $message }
openFailed = Could not open: { $message }
today = Today
yesterday = Yesterday
groupYou = You
groupSomeone = Someone
# $noun is files, folders or items (a mix of both).
groupItems = { $noun ->
    [folders] { $count ->
        [one] { $count } folder
       *[other] { $count } folders
    }
    [items] { $count ->
        [one] { $count } item
       *[other] { $count } items
    }
   *[files] { $count ->
        [one] { $count } file
       *[other] { $count } files
    }
}
# One row for a burst: $who is a person (or groupYou, groupSomeone), $items is groupItems.
groupBurst_created = { $who } added { $items } to { $folder }
groupBurst_modified = { $who } edited { $items } in { $folder }
groupBurst_deleted = { $who } deleted { $items } from { $folder }
groupBurst_renamed = { $who } renamed { $items } in { $folder }
groupBurst_moved = { $who } moved { $items } to { $folder }
groupBurst_mixed = { $who } changed { $items } in { $folder }
# One row for an editing session of one file; $time is its span of local times, 10:02–10:31.
groupSession = { $who } edited { $name }
groupSaves = { $count ->
    [one] { $count } save
   *[other] { $count } saves
}, { $time }
groupMembers = The changes of this group
rowMenu = More for { $name }
muteHour = Mute { $folder } for 1 hour
muteTomorrow = Mute { $folder } until tomorrow
muteAlways = Mute { $folder } always
mutedFolder = Notifications from { $folder } are muted.
muteFailed = Could not mute: { $message }
# A digest's list: $name is a library or digestScopeFolder, $time its span (yesterday 09:00–today 09:00).
digestBanner = Digest: { $name }, { $time } · { $count ->
    [one] { $count } change
   *[other] { $count } changes
}
digestScopeFolder = { $folder } in { $name }
digestBack = Back to all changes

## Status
statusTitle = Status
noTargets = Nothing is watched yet. Add a library in Settings.
account = Account
st_connecting = Connecting
st_connecting_text = Connecting to Microsoft…
st_live = Live
st_live_text = Changes arrive the moment they happen.
st_polling = Checking regularly
st_polling_text = Instant updates are unavailable, so DriveWatch checks for changes every few minutes. Reason: { $reason }
st_reconnecting = Reconnecting
st_reconnecting_text = The connection was interrupted; DriveWatch is reconnecting. Reason: { $reason }
st_throttled = Slowed down
st_throttled_text = Microsoft asked DriveWatch to wait; it checks again at { $time } ({ $relative }).
st_resyncing = Catching up
st_resyncing_text = Reading the whole library once: { $items ->
    [one] { $items } item
   *[other] { $items } items
} in { $pages ->
    [one] { $pages } page
   *[other] { $pages } pages
} so far.
st_needsSignIn = Sign-in needed
st_needsSignIn_text = The sign-in for this account expired or was revoked. Sign in again to resume.
st_error = Stopped by an error
st_error_text = DriveWatch stopped watching this library: { $reason }
st_stopped = Stopped
st_stopped_text = Not being watched right now.
st_paused = Notifications paused
signInAgain = Sign in again
resyncProgress = Catch-up progress

## Settings
settingsTitle = Settings
accountsTitle = Accounts
noAccounts = No account yet.
addAccount = Add an account
signOut = Sign out
signOutOf = Sign out of { $name }
accountNeedsSignIn = needs sign-in
kindLabel_personal = Personal
kindLabel_work = Work or school
kindLabel_any = Microsoft account
targetsTitle = Watched libraries
removeTarget = Remove
removeTargetOf = Stop watching { $name }
addTargetTitle = Watch another library
targetUrl = OneDrive or SharePoint address
targetUrlHint = Paste the address of a folder or document library from your browser.
targetAccount = With account
add = Add
adding = Adding…
addedTarget = Now watching { $name }.
url_empty = Paste an address first.
url_notUrl = This is not a web address. Copy it from your browser's address bar, starting with https://.
url_notHttps = The address must start with https://.
url_notMicrosoft = This is not a OneDrive or SharePoint address. It should be on onedrive.live.com, 1drv.ms or a *.sharepoint.com site.
needAccountFirst = Sign in to an account before adding a library.
notificationsTitle = Notifications
notifyOwn = Also notify me about changes I make myself
quietHours = Quiet hours (no notifications)
quietFrom = From
quietTo = To
mutedTitle = Muted folders and patterns
mutedHint = A folder such as /Photos or a pattern such as *.tmp; changes there still appear in the list.
mutedNone = Nothing is muted.
mutedAdd = Mute
mutedRemove = Unmute { $pattern }
mutedLabel = Folder or pattern
mutesTitle = Muted from notifications or the list
mutesNone = No folder is muted for now.
# $folder is a folder path (or rootFolder), $name a library (or muteEveryTarget).
muteEntry = { $folder } in { $name }
muteEveryTarget = every library
muteUntil = until { $time }
muteForGood = for good
unmute = Unmute
unmuteOf = Stop muting { $folder }
pauseTitle = Pause
pauseOneHour = Pause for one hour
pauseTomorrow = Pause until tomorrow
notPaused = Notifications are on.
rulesTitle = Notifications per library
rulesHint = Live: a notification as changes arrive. Daily digest: one summary a day. Off: none. The list always shows every change.
rulesNone = No rules: every library notifies live about every kind of change.
ruleTarget = Library
ruleFolder = Folder
ruleFolderHint = Empty for the whole library
ruleMode = Notify
mode_live = Live
mode_digest = Daily digest
mode_off = Off
ruleKinds = Kinds that notify (none checked: all)
ruleAdd = Add a rule
ruleRemove = Remove
ruleRemoveOf = Remove the rule for { $name }
ruleWhole = the whole library
digestAt = Daily digest at
sessionMinutes = Saves of one file by one person are one editing session while they come less than this many minutes apart
appTitle = App
startAtLogin = Start DriveWatch when I sign in to this computer
language = Language
lang_system = Same as the system
lang_en = English
lang_ru = Русский
saved = Saved.
saveFailed = Could not save: { $message }

## Notifications (built by drivewatch-core's toast policy)
# $who is a person's display name (or someone), $name a file or folder name, $folder and
# $from folder paths; $isFolder is "yes" or "no".

someone = Someone
toast_created = { $who } added { $name }
toast_modified = { $who } edited { $name }
toast_deleted = { $who } deleted { $name }
toast_renamed = { $who } renamed { $name }
toast_renamedFrom = { $who } renamed { $old } to { $name }
toast_moved = { $who } moved { $name }
toast_in = in { $folder }
toast_from = from { $folder }
toast_to = to { $folder }
toast_toFrom = to { $folder }, from { $from }
# A change found on catch-up, made while the app was not running; $body is the line it marks.
toast_caughtUp = { caughtUp }: { $body }
# $noun is files, folders or items (a mix of both).
toast_count = { $noun ->
    [folders] { $count ->
        [one] { $count } folder
       *[other] { $count } folders
    }
    [items] { $count ->
        [one] { $count } item
       *[other] { $count } items
    }
   *[files] { $count ->
        [one] { $count } file
       *[other] { $count } files
    }
}
# Bursts: $items is toast_count for $count and $noun.
toast_burstCreated = { $who } added { $items } to { $folder }
toast_burstModified = { $who } edited { $items } in { $folder }
toast_burstDeleted = { $who } deleted { $items } from { $folder }
toast_burstRenamed = { $who } renamed { $items } in { $folder }
toast_burstMoved = { $who } moved { $items } to { $folder }
# $names: the first few names, joined with ", ".
toast_andMore = { $names } and { $rest } more
toast_moreChanges = { $count ->
    [one] { $count } more change
   *[other] { $count } more changes
}
toast_seeAll = Open DriveWatch to see them all
toast_open = Open
toast_show = Show in DriveWatch
# An editing session's toast, redrawn in place as saves come; $time is the local time of the
# first save.
toast_session = { $who } is editing { $name }
toast_sessionSaves = { $count ->
    [one] { $count } save since { $time }
   *[other] { $count } saves since { $time }
}
# The daily digest: $folder is the folder's name or the target's label, $items is
# toast_digestChanges and $who is toast_digestPeople.
toast_digest = Yesterday in { $folder }: { $items } by { $who }
toast_digestAll = Yesterday: { $items } by { $who }
toast_digestChanges = { $count ->
    [one] { $count } change
   *[other] { $count } changes
}
toast_digestPeople = { $count ->
    [one] { $count } person
   *[other] { $count } people
}
toast_digestOpen = Open DriveWatch to see them

## The tray menu
# $state is one of st_live, st_polling, st_reconnecting, st_needsSignIn, st_paused; $time a
# local time of day; $change the latest change as its notification says it.
tray_status = { $state } · { $time } { $change }
tray_statusEmpty = { $state } · no changes yet
tray_noChanges = No changes yet
tray_open = Open DriveWatch
tray_pause = Pause notifications
tray_pauseHour = For 1 hour
tray_pauseTomorrow = Until tomorrow
tray_signIn = Sign in…
tray_quit = Quit DriveWatch
# The unread count: changes that deserved a toast since the list was last seen.
tray_unread = { $count ->
    [one] { $count } new change
   *[other] { $count } new changes
}
tray_muted = Muted folders
# $folder is a drive path; $time a local time (today) or a date and time.
tray_unmuteUntil = Unmute { $folder } (muted until { $time })
tray_unmuteAlways = Unmute { $folder }
# A toast's action; $folder is the drive path of the toast's folder.
tray_muteFor3h = Mute { $folder } for 3 hours
