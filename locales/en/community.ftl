# Community rooms, tiers, the VIP room and VIP codes, the advertising label.

room-welcome-names = { $names }
room-welcome-separator = { ", " }
room-welcome = Welcome, { $names }! Glad you are here 👋
room-rules = House rules: be kind to each other · flooding mutes you for a while · links from newcomers are removed automatically.
room-welcome-link-telegram = To get your order notes, send me /start in a private chat and connect your order account with the shop's "Connect messenger" button.
room-welcome-link-discord = To get your order notes, use /link with the code from the shop's "Connect messenger" button.
room-broadcast-scheduled = 📺 Next live: "{ $title }"
    Starts { $starts }. { $url }
room-broadcast-started = 🔴 We are live now: "{ $title }" { $url }
room-muted-notice = { $name }, you sent messages too fast, so you cannot write for { $minutes } minutes.
room-link-removed = { $name }, newcomers can post links after { $minutes } minutes here, so your message was removed.
staff-member-muted = 🔇 { $name } ({ $platform } { $user }) flooded a community room and cannot write for { $minutes } minutes. To lift it: /unmute { $user }
staff-usage-unmute = Usage: /unmute USER_ID
staff-unmuted = { $user } can write again.
staff-not-muted = { $user } is not muted.
staff-only = Sorry, this command is for staff only.

tier-congratulation = Congratulations! You are { $tier } now 🎉 Thank you for coming back to us.
vip-welcome = { $name }, you reached { $tier }! 🎉 We have something just for our closest customers.
vip-room-link = Your personal link to the VIP room: { $link }
vip-room-granted = You can see the { $room } VIP channel now.
vip-status-tier = { $name }, your tier is { $tier }.
vip-status-no-tier = { $name }, you have no tier yet. Tiers grow with your orders.
vip-status-codes = Codes you were sent:
vip-status-no-codes = You have not been sent any codes yet.
vip-status-code = • { $code }
vip-status-code-until = • { $code } (until { $date })
vip-code = A code only for { $tier } customers and above: { $code }
    Enter it at checkout. Valid until { $until }.
vip-room-code = 💎 A code for { $tier } and above: { $code }
vip-post = 💎 For VIPs only
    { $text }
staff-usage-vipcode = Usage: /vipcode CODE TIER [expires=7d] or /vipcode pool=CAMPAIGN TIER [expires=7d]
staff-unknown-tier = There is no tier { $tier }. Tiers: { $tiers }
staff-vipcode-sent = Sending the code to { $count } consenting customers of { $tier } or higher.
staff-pool-empty = ⚠️ Campaign { $campaign } ran out of codes: { $missing } customers got none. Add codes (encore import codes, or code.pool_added).
staff-usage-vippost = Usage: /vippost text…
staff-vippost-no-tiers = No tiers are configured, so there is no VIP room to post to.
staff-vippost-sent = Posted in the VIP room; of { $count } consenting VIP customers, those not in the room get it as a DM.

ad-label = [Ad] { $shop } · Contact { $contact }
ad-opt-out = Free opt-out (무료수신거부): send /stop
