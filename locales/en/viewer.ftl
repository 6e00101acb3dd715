# Conversations with viewers: linking, consent, commands.

start-greeting = Hello! This is { $shop }'s notification bot.
    To get your order and shipping updates here, tap "Connect messenger" on the order confirmation page or in My Page at the shop. This chat will then be linked to your order account.
start-linked = You are already linked to your { $shop } order account. See /help for the menu.
link-welcome = { $name }, you are now linked to your { $shop } order account! 🎉
    We will send your order notes here: thank-yous, shipping and delay updates.
link-moved = This messenger account was linked to another order account and has now moved to this one. If that was not you, send /unlink.
link-token-unknown = We could not recognise that link. Please tap "Connect messenger" at the shop again for a new one.
link-token-expired = That link has expired. Please tap "Connect messenger" at the shop again.
link-token-used = That link was already used. Please tap "Connect messenger" at the shop again for a new one.

consent-marketing-ask = Would you like to receive advertising from { $shop } here — offers, new arrivals and live previews? Order and shipping notes come either way, and you can withdraw anytime with /stop.
consent-night-ask = Would you also like { $shop }'s advertising at night ({ $hours })? If not, we never send it in those hours.
button-agree = Yes, please
button-decline = No, thanks
consent-marketing-yes-confirm = You agreed to receive advertising from { $shop }. (Date: { $date }) You can withdraw anytime with /stop.
consent-marketing-no-confirm = You declined advertising from { $shop }. (Date: { $date }) Order and shipping notes continue as usual.
consent-night-yes-confirm = You agreed to receive { $shop }'s advertising at night ({ $hours }). (Date: { $date })
consent-night-no-confirm = You declined { $shop }'s advertising at night ({ $hours }). (Date: { $date }) We will only send it in daytime.
consent-night-needs-marketing = Night-time consent needs advertising consent first.

not-linked = You are not linked to an order account yet. Please tap "Connect messenger" at the shop first.
stop-confirm = You withdrew your consent to advertising from { $shop }. (Date: { $date }) From now on we only send order and shipping notes.
unlink-done = This chat is no longer linked to your { $shop } order account. To link again, tap "Connect messenger" at the shop.
lang-usage = Usage: /lang ko or /lang en
lang-set = From now on we will write to you in English.
help-menu = How can we help?
    • FAQ — just ask, e.g. about shipping, exchanges or refunds
    • My orders — order notes arrive in this chat
    • Talk to a person — /human or the button below
    • Privacy — /mydata to see what we keep, /forget to erase it, /stop to stop advertising, /unlink to unlink
    • /lang ko|en — change the language
unknown-command = That command is not known. See /help for what you can use.

discord-dm-sent = I answered you in a DM.
discord-dm-closed = I cannot send you a DM. Allow direct messages from server members in this server's privacy settings, then try again.
