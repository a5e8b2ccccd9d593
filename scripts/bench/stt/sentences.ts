// What callers to a city's 311 line say: the first four were misheard on real calls; then a
// request for a person, numbers, dates and addresses. Written as they are spoken, numbers in
// words, so each voice says the same words the reference holds.

export interface Sentence {
  id: string;
  text: string;
}

export const SENTENCES: readonly Sentence[] = [
  { id: 'pothole', text: 'There is a big pothole on my street.' },
  { id: 'sanitation', text: 'I need someone in the sanitation department.' },
  { id: 'city-hall-hours', text: 'What time does City Hall open on Monday?' },
  { id: 'goodbye', text: 'Thank you, that is all, goodbye.' },
  { id: 'real-person', text: 'Can I talk to a real person, please?' },
  { id: 'operator', text: 'Could you transfer me to an operator?' },
  { id: 'water-bill', text: 'I would like to speak with someone about my water bill.' },
  { id: 'account-number', text: 'My account number is four seven two nine one eight.' },
  { id: 'address', text: 'I live at fourteen twenty Oak Street.' },
  { id: 'streetlight', text: 'The streetlight at Main Street and Second Avenue is out.' },
  { id: 'trash-date', text: 'My trash was not picked up on Tuesday, June fifth.' },
  {
    id: 'call-back',
    text: 'Please call me back at two zero six, five five five, zero one four two.',
  },
  { id: 'parked-car', text: 'A car has been parked in front of my house for three weeks.' },
  { id: 'water-main', text: 'I want to report a broken water main near the library.' },
  { id: 'parking-ticket', text: 'How do I pay a parking ticket online?' },
  { id: 'noise', text: 'The construction noise starts at six in the morning.' },
];
